"""Limits that the command line states in its help and the commands enforce (documented in the README).

Kept apart from the modules that enforce them so that `derive --help` reads them without sympy.
"""
MAX_VARIANTS = 500
MAX_STRESS = 100_000

# The regularisation solvers' step caps: the solvers (regularization/problem.py) stop at them and the
# cost budget (budget.py) estimates with them, without loading sympy or numpy.
MAX_SOLVER_ITERATIONS = 20_000
FIRST_PHASE = 2_000           # projected-gradient steps before Newton's method may finish the job
NEWTON_UP_TO = 300            # unknowns for which a Hessian by differences is affordable
PATH_ITERATIONS = 2_000       # per point of the regularisation path (a network)
PATH_POINTS = 21              # λ* · 10^(-1 .. 1), geometric, with λ* (and the soft part's λ) on it
