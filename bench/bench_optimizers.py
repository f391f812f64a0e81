"""How fast are the optimisers? Adam on the 4-8-8-8-3 sigmoid network, 100 iterations (a script, not a test).

    python3 bench/bench_optimizers.py

(a) cold: the derivation, the optimiser's steps derived and compiled, 100 steps and the key verified
    by the independent numpy check; (b) warm: the same spec again (everything compiled), which is
    what an exam or a second spec of the same shape pays; (c) every rule warm, for comparison.
Prints markdown ready to paste.
"""
from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import derive  # noqa: E402
from derive.solution import solve  # noqa: E402
from derive.training import OPTIMIZERS  # noqa: E402

LAYERS = (4, 8, 8, 8, 3)
ITERATIONS = 100


def adam_spec(name: str = "adam", samples: int = 4, batch_size: int = 2) -> derive.Spec:
    rng = np.random.default_rng(0)
    depth = len(LAYERS) - 1
    return derive.parse({
        "network": {"layers": list(LAYERS), "activation": "sigmoid", "loss": "half_sse"},
        "data": {"inputs": rng.uniform(0, 1, (samples, LAYERS[0])).tolist(),
                 "targets": rng.uniform(0.05, 0.95, (samples, LAYERS[-1])).tolist()},
        "parameters": {"weights": [rng.uniform(-0.5, 0.5, (LAYERS[l + 1], LAYERS[l])).tolist()
                                   for l in range(depth)],
                       "biases": rng.uniform(-0.5, 0.5, depth).tolist()},
        "training": {"learning_rate": 0.01, "iterations": ITERATIONS, "update_biases": True,
                     "optimizer": name, "batch_size": batch_size},
    }, "bench")


def timed(spec) -> tuple[float, dict]:
    start = time.perf_counter()
    key = solve(spec).key
    return time.perf_counter() - start, key


def main() -> None:
    spec = adam_spec()
    cold, key = timed(spec)
    warm = min(timed(spec)[0] for _ in range(3))
    unchecked = min(_unchecked(spec) for _ in range(3))
    print(f"Adam, {'-'.join(map(str, LAYERS))} sigmoid net ({sum(len(r) for m in spec.weights for r in m)} "
          f"weights, biases updated), 4 samples in batches of 2, {ITERATIONS} iterations:\n")
    print("| run | seconds |\n| --- | ---: |")
    print(f"| cold (derive, compile, train, verify) | {cold:.2f} |")
    print(f"| warm (train and verify) | {warm:.3f} |")
    print(f"| warm, training only (no independent check) | {unchecked:.3f} |")
    print(f"\nloss {key['history']['loss'][0]:.6f} -> {key['history']['loss'][-1]:.6f}\n")
    print("| rule | warm seconds |\n| --- | ---: |")
    for name in OPTIMIZERS:
        other = dataclasses.replace(spec, optimizer=dataclasses.replace(adam_spec(name).optimizer))
        timed(other)
        print(f"| {name} | {min(timed(other)[0] for _ in range(3)):.3f} |")



def _unchecked(spec) -> float:
    start = time.perf_counter()
    solve(spec, check=False)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
