"""Limits that the command line states in its help and the commands enforce (documented in the README).

Kept apart from the modules that enforce them so that `derive --help` reads them without sympy.
"""
MAX_VARIANTS = 500
MAX_STRESS = 100_000
