"""How fast are module specs? The 6x6 CNN of examples/cnn.toml and an RNN over 6 steps (a script, not a test).

    python3 bench/bench_modules.py

Beyond start-up (sympy and numpy imported, the spec read): (a) the derivation and its values
(lowering to scalar nodes, forward, backward, the update, the loss after it); (b) the same plus
the key and the independent check (numpy forward/backward and finite differences of every
parameter); (c) the documents' .tex (layout and rendering, no TeX). Goal: (a) at most 1 s each.
Prints markdown ready to paste.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from derive.modules.derivation import derive_spec  # noqa: E402
from derive.modules.documents import module_documents  # noqa: E402
from derive.modules.solution import solve_modules  # noqa: E402
from derive.spec import load, parse  # noqa: E402

RNN6 = {
    "title": "RNN over 6 steps",
    "module": [
        {"kind": "rnn", "units": 2, "input_weights": [[0.5, -0.2], [-0.3, 0.4]],
         "recurrent_weights": [[0.4, 0.2], [-0.1, 0.6]], "biases": [0.1, 0.0]},
        {"kind": "dense", "units": 1, "activation": "sigmoid", "weights": [[0.8, -0.6]], "biases": [0.1]}],
    "network": {"loss": "half_sse"},
    "data": {"inputs": [[1.0, 0.2], [0.5, -0.4], [-0.5, 0.3], [0.8, 0.1], [0.2, -0.7], [-0.3, 0.6]],
             "targets": [0.7]},
}


def best(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    specs = {"6x6 CNN (examples/cnn.toml)": load(ROOT / "examples" / "cnn.toml"),
             "RNN, 6 steps, 2 features, 2 hidden": parse(RNN6, "bench")}
    print("| spec | derivation + values | + key and independent check | + worksheet and solution .tex |")
    print("| --- | ---: | ---: | ---: |")
    for name, spec in specs.items():
        first = time.perf_counter()
        derive_spec(spec)
        cold = time.perf_counter() - first
        derivation = best(lambda: derive_spec(spec))
        checked = best(lambda: solve_modules(spec))
        solution = solve_modules(spec)
        documents = best(lambda: module_documents(solution))
        print(f"| {name} | {derivation:.3f} s (first: {cold:.3f} s) | {checked:.3f} s | {documents:.3f} s |")


if __name__ == "__main__":
    main()
