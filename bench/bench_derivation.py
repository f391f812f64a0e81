"""How fast is the derivation? Figures and ratios for the README (a script, not a test).

    python3 bench/bench_derivation.py [--quick]

(a) the lecture's key, in process time beyond `import sympy` (a fresh interpreter);
(b) a 4-8-8-8-3 sigmoid network: full symbolic derivation + values from a cold start;
(c) derivation time against network size, beside the naive baseline (the whole composed loss as one
    sympy expression, `sympy.diff` for every weight, values substituted), killed after 60 s;
(d) 10000 gradient-descent iterations of the lecture network on the compiled functions.

Prints markdown ready to paste. --quick stops the baseline after 5 s (for a smoke run).
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import multiprocessing
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import derive  # noqa: E402
from derive.model import activations
from derive.model import losses
from derive.numeric import compiled as numeric  # noqa: E402
from derive.derivation import derive as derive_shape  # noqa: E402
from derive.model.network import Shape  # noqa: E402

LECTURE = ROOT / "examples" / "lecture.toml"
SIZES = [(2, 2, 2), (3, 4, 3), (4, 8, 8, 8, 3), (6, 12, 12, 6), (8, 16, 16, 8), (10, 16, 16, 16, 10)]


def sigmoid_spec(layers, seed: int = 0) -> derive.Spec:
    """A sigmoid network with half_sse loss and random small weights (one sample)."""
    rng = np.random.default_rng(seed)
    depth = len(layers) - 1
    return derive.parse({
        "network": {"layers": list(layers), "activation": "sigmoid", "loss": "half_sse"},
        "data": {"inputs": rng.uniform(0, 1, layers[0]).tolist(),
                 "targets": rng.uniform(0.05, 0.95, layers[-1]).tolist()},
        "parameters": {"weights": [rng.uniform(-0.5, 0.5, (layers[l + 1], layers[l])).tolist()
                                   for l in range(depth)],
                       "biases": rng.uniform(-0.5, 0.5, depth).tolist()},
    }, "bench")


def cold() -> None:
    """Forget every cache, as a fresh process would."""
    derive_shape.cache_clear()
    numeric._EVALUATORS.clear()
    activations.check_identities.cache_clear()
    losses.check_identities.cache_clear()
    sp.core.cache.clear_cache()


def n_weights(layers) -> int:
    return sum(a * b for a, b in zip(layers, layers[1:]))


def ms(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


# -- (a) the lecture's key in a fresh interpreter ---------------------------------------------------

LECTURE_CHILD = """
import time
t0 = time.process_time()
import sympy
t1 = time.process_time()
import derive
from derive.output.folders import dumps_json
t2 = time.process_time()
text = dumps_json(derive.derive({path!r}).key)
t3 = time.process_time()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def lecture_key(runs: int = 3) -> tuple[float, float, float]:
    """(import sympy, import derive beyond sympy, key) in process seconds: the best of `runs`."""
    best = None
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", LECTURE_CHILD.format(path=str(LECTURE))], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        times = tuple(float(x) for x in out.split())
        if best is None or sum(times[1:]) < sum(best[1:]):
            best = times
    return best


# -- (b), (c): our derivation from a cold start -----------------------------------------------------

def ours(spec: derive.Spec) -> dict:
    """Process seconds of each stage, caches cleared first: derive, compile, values, verify.

    The identity checks (sympy proves sigma' = out(1 - out) and the like) run once per process;
    they are timed on their own and counted in the total ("symbolic+values").
    """
    cold()
    t = time.process_time()
    activations.check_identities()
    losses.check_identities(spec.layers[-1])
    t0 = time.process_time()
    derivation = derive_shape(Shape.of(spec))
    t1 = time.process_time()
    evaluator = numeric.evaluator(derivation)
    t2 = time.process_time()
    values = evaluator.run(spec)
    t3 = time.process_time()
    from derive.solution import build_key
    from derive.numeric.verify import verify_key
    key = build_key(spec, derivation, values)
    verify_key(spec, key)
    t4 = time.process_time()
    return {"identities": t0 - t, "derive": t1 - t0, "compile": t2 - t1, "values": t3 - t2,
            "verify": t4 - t3, "symbolic+values": t3 - t, "per network": t3 - t0,
            "steps": len(derivation.steps),
            "gradient": key["gradients"]["weights"][0][0][0]}


# -- (c) the naive baseline: one diff of the whole composed loss per weight --------------------------

def naive(layers, seed, queue) -> None:
    """Runs in a child process: composed loss, sympy.diff per weight, values substituted."""
    start = time.process_time()
    spec = sigmoid_spec(layers, seed)
    depth = len(layers) - 1
    W = [[[sp.Symbol(f"w{l}_{j}_{k}") for k in range(layers[l])] for j in range(layers[l + 1])]
         for l in range(depth)]
    b = [sp.Symbol(f"b{l}") for l in range(depth)]
    x = [sp.Symbol(f"x{k}") for k in range(layers[0])]
    t = [sp.Symbol(f"t{k}") for k in range(layers[-1])]
    out = x
    for l in range(depth):
        out = [1 / (1 + sp.exp(-(sum(W[l][j][k] * out[k] for k in range(layers[l])) + b[l])))
               for j in range(layers[l + 1])]
    loss = sum(sp.Rational(1, 2) * (t[k] - out[k]) ** 2 for k in range(layers[-1]))
    values = {s: v for l in range(depth) for row_s, row_v in zip(W[l], spec.weights[l])
              for s, v in zip(row_s, row_v)}
    values.update({s: v for s, v in zip(b, spec.biases)})
    values.update({s: v for s, v in zip(x, spec.inputs[0])})
    values.update({s: v for s, v in zip(t, spec.targets[0])})
    first = None
    for l in range(depth):
        for row in W[l]:
            for w in row:
                g = float(sp.diff(loss, w).xreplace(values))
                first = g if first is None else first
    queue.put((time.process_time() - start, first))


def baseline(layers, limit: float) -> tuple[float | None, float | None]:
    """(process seconds, first gradient) of the naive baseline, or (None, None) after `limit` s."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=naive, args=(layers, 0, queue), daemon=True)
    child.start()
    child.join(limit)
    if child.is_alive():
        child.terminate()
        child.join()
        return None, None
    return queue.get(timeout=5)


# -- (d) iterations ---------------------------------------------------------------------------------

def iterations(n: int = 10000) -> tuple[float, float]:
    spec = dataclasses.replace(derive.load(LECTURE), iterations=n)
    evaluator = numeric.evaluator(derive_shape(Shape.of(spec)))
    t0 = time.process_time()
    values = evaluator.run(spec)
    return time.process_time() - t0, values.history[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="baseline time limit 5 s instead of 60 s")
    limit = 5.0 if parser.parse_args().quick else 60.0
    started = time.perf_counter()
    print(f"# derive benchmark\n\n{platform.python_implementation()} {platform.python_version()}, "
          f"sympy {sp.__version__}, numpy {np.__version__}, {multiprocessing.cpu_count()} cores; "
          "process time (CPU seconds).\n")

    sympy_import, derive_import, key = lecture_key()
    beyond = derive_import + key
    print("## (a) The lecture's key (fresh interpreter, best of 3)\n")
    print("| stage | time |\n| --- | --- |")
    print(f"| `import sympy` | {ms(sympy_import)} |")
    print(f"| `import derive` beyond sympy | {ms(derive_import)} |")
    print(f"| derive + verify + JSON of examples/lecture.toml | {ms(key)} |")
    print(f"| **beyond `import sympy`** | **{ms(beyond)}** (target < 1 s: {beyond:.2f}x of it) |\n")

    deep = ours(sigmoid_spec((4, 8, 8, 8, 3)))
    print("## (b) 4-8-8-8-3 sigmoid network from a cold start\n")
    print("| stage | time |\n| --- | --- |")
    stages = {"identity checks (once per process)": "identities", "derive the steps": "derive",
              "compile them": "compile", "values": "values", "verify (numpy + finite differences)": "verify"}
    for label, stage in stages.items():
        print(f"| {label} | {ms(deep[stage])} |")
    print(f"| **symbolic derivation + values** | **{ms(deep['symbolic+values'])}** "
          f"(target <= 2 s: {deep['symbolic+values'] / 2:.2f}x of it; {deep['steps']} steps) |\n")

    print(f"## (c) Derivation time against network size (naive baseline killed after {limit:.0f} s)\n")
    print("Ours: derive the steps, compile, values, from cold caches; the once-per-process identity "
          "checks left out. Naive: the composed loss as one sympy expression, `sympy.diff` per weight, "
          "values substituted.\n")
    print("| network | weights | steps | ours: derive + values | per weight | naive `sympy.diff` "
          "of the whole loss | naive / ours |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows, timed_out = [], False
    for layers in SIZES:
        spec = sigmoid_spec(layers)
        mine = ours(spec)
        mine["symbolic+values"] = mine["per network"]
        n = n_weights(layers)
        if timed_out:
            naive_cell, ratio = f"not run (a smaller one took > {limit:.0f} s)", "-"
        else:
            seconds, gradient = baseline(layers, limit)
            if seconds is None:
                timed_out = True
                naive_cell, ratio = f"> {limit:.0f} s (killed)", f"> {limit / mine['symbolic+values']:.0f}x"
            else:
                assert math.isclose(gradient, mine["gradient"], rel_tol=1e-9), (gradient, mine["gradient"])
                naive_cell, ratio = ms(seconds), f"{seconds / mine['symbolic+values']:.1f}x"
        rows.append((n, mine["symbolic+values"]))
        print(f"| {'-'.join(map(str, layers))} | {n} | {mine['steps']} | {ms(mine['symbolic+values'])} | "
              f"{mine['symbolic+values'] / n * 1000:.2f} ms | {naive_cell} | {ratio} |")
    big = [(n, s) for n, s in rows if n >= 100]
    slope = np.polyfit(np.log([n for n, _ in big]), np.log([s for _, s in big]), 1)[0]
    print(f"\nGrowth of our time with the number of weights (log-log slope from 184 weights up): "
          f"{slope:.2f} (1 = linear).\n")

    seconds, final_loss = iterations()
    print("## (d) 10000 iterations of the lecture network (compiled functions)\n")
    print("| iterations | time | per iteration | final loss |\n| ---: | ---: | ---: | ---: |")
    print(f"| 10000 | {ms(seconds)} | {seconds / 10000 * 1e6:.0f} µs | {final_loss:.3g} |")
    print(f"\n(target <= 1 s: {seconds:.2f}x of it)\n")
    print(f"_bench total: {time.perf_counter() - started:.0f} s wall_")


if __name__ == "__main__":
    main()
