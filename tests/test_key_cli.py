"""`derive key`: the key's names and shapes, deterministic output, and every bad input as one line, exit 2."""
from __future__ import annotations

import copy
import json

import pytest

import derive
from derive.spec import MAX_ITERATIONS, MAX_NEURONS, MAX_PARAMETERS

from conftest import LECTURE_DICT, random_spec, toml_text
from helpers import run_cli, run_console


# -- key.json: the graders' contract ---------------------------------------------------------------

def _shape(value):
    """The nesting of a value: numbers become "x", lists keep their lengths."""
    if isinstance(value, list):
        return [_shape(v) for v in value]
    assert isinstance(value, float), value
    return "x"


def test_the_lectures_key_has_one_entry_per_layer_and_the_parameters_shapes(lecture_path):
    key = derive.derive(str(lecture_path)).key
    assert list(key) == ["forward", "loss", "gradients", "updated"]
    assert [sorted(layer) for layer in key["forward"]] == [["net", "out"]] * 2
    assert [_shape(layer["net"]) for layer in key["forward"]] == [["x", "x"]] * 2
    assert _shape(key["loss"]["per_output"]) == ["x", "x"]
    assert isinstance(key["loss"]["total"], float)
    weights = LECTURE_DICT["parameters"]["weights"]
    for part in ("gradients", "updated"):
        assert list(key[part]) == ["weights", "biases"]
        assert _shape(key[part]["weights"]) == _shape(weights)
        assert _shape(key[part]["biases"]) == ["x", "x"]     # shared biases are numbers


def test_several_samples_give_one_forward_and_one_loss_list_per_sample():
    raw = random_spec(5, [2, 3, 3, 2], samples=3, biases="mixed", update_biases=True)
    key = derive.derive(raw).key
    assert len(key["forward"]) == 3
    for sample in key["forward"]:
        assert [len(layer["out"]) for layer in sample] == [3, 3, 2]
        assert [len(layer["net"]) for layer in sample] == [3, 3, 2]
    assert _shape(key["loss"]["per_output"]) == [["x", "x"]] * 3
    assert isinstance(key["loss"]["total"], float)
    biases = raw["parameters"]["biases"]     # number, list, number
    for part in ("gradients", "updated"):
        assert _shape(key[part]["biases"]) == ["x", ["x", "x", "x"], "x"]
        assert _shape(key[part]["weights"]) == _shape(raw["parameters"]["weights"])
    assert key["updated"]["biases"] != biases
    assert "history" not in key and "final" not in key


def test_history_and_final_only_when_iterating(lecture_dict):
    assert "history" not in derive.derive(lecture_dict).key
    lecture_dict["training"]["iterations"] = 7
    key = derive.derive(lecture_dict).key
    assert list(key) == ["forward", "loss", "gradients", "updated", "history", "final"]
    assert len(key["history"]["loss"]) == 8
    assert key["history"]["loss"][0] == key["loss"]["total"]
    assert _shape(key["final"]["weights"]) == _shape(lecture_dict["parameters"]["weights"])
    assert key["final"]["biases"] == [0.35, 0.60]


def test_mse_per_output_is_the_squared_error_over_n_out(lecture_dict):
    lecture_dict["network"]["loss"] = "mse"
    key = derive.derive(lecture_dict).key
    out, t = key["forward"][-1]["out"], lecture_dict["data"]["targets"]
    assert key["loss"]["per_output"] == pytest.approx([(t[k] - out[k]) ** 2 / 2 for k in range(2)], rel=1e-15)


# -- the command -----------------------------------------------------------------------------------

def test_key_without_output_prints_the_json(lecture_path):
    result = run_console("key", lecture_path)     # as a process: the console script itself
    assert result.returncode == 0 and result.stderr == ""
    key = json.loads(result.stdout)
    assert round(key["gradients"]["weights"][1][0][0], 9) == 0.082167041
    assert round(key["updated"]["weights"][1][0][0], 9) == 0.35891648


def test_key_with_output_writes_the_file_and_two_runs_are_byte_identical(lecture_path, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run_cli("key", lecture_path, "-o", first).returncode == 0
    result = run_cli("key", lecture_path, "--output", second)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert first.read_bytes() == second.read_bytes()
    assert first.read_text() == run_cli("key", lecture_path).stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]   # no temporary left


def test_the_key_keeps_full_double_precision(lecture_path):
    key = json.loads(run_cli("key", lecture_path).stdout)
    assert key["forward"][0]["out"][0] == derive.derive(str(lecture_path)).value("out_h1")


# -- bad input: one line naming file and field, exit 2, nothing written ----------------------------

def _changed(change) -> str:
    raw = copy.deepcopy(LECTURE_DICT)
    change(raw)
    return toml_text(raw)


GOOD = toml_text(LECTURE_DICT)

BAD_INPUTS = {
    # name: (spec text, words the one line must hold besides the file name)
    "malformed TOML": (GOOD.replace("[data]", "[data\n"), ["malformed TOML", "line 9"]),
    "missing weights": (_changed(lambda d: d["parameters"].pop("weights")),
                        ["[parameters] weights", "missing field"]),
    "missing network": (_changed(lambda d: d.pop("network")), ["[network] layers", "missing field"]),
    "weights of the wrong shape": (_changed(lambda d: d["parameters"]["weights"][1].pop()),
                                   ["[parameters] weights[1]", "expected shape 2x2", "layer 2"]),
    "too few weight matrices": (_changed(lambda d: d["parameters"]["weights"].pop()),
                                ["[parameters] weights", "expected 2 weight matrices"]),
    "biases of the wrong length": (_changed(lambda d: d["parameters"]["biases"].__setitem__(0, [1.0, 2.0, 3.0])),
                                   ["[parameters] biases[0]", "expected 2 numbers", "layer 1"]),
    "too many biases": (_changed(lambda d: d["parameters"]["biases"].append(0.1)),
                        ["[parameters] biases", "expected 2 entries"]),
    "inputs not matching layers": (_changed(lambda d: d["data"].__setitem__("inputs", [0.05, 0.1, 0.2])),
                                   ["[data] inputs", "expected 2 numbers"]),
    "targets not matching layers": (_changed(lambda d: d["data"].__setitem__("targets", [0.5])),
                                    ["[data] targets", "expected 2 numbers"]),
    "targets of fewer samples than inputs": (
        _changed(lambda d: d["data"].update(inputs=[[0.05, 0.1], [0.2, 0.3]], targets=[[0.01, 0.99]])),
        ["[data] targets", "expected 2 lists"]),
    "unknown activation": (_changed(lambda d: d["network"].__setitem__("activation", "gelu")),
                           ["[network] activation", "'gelu'", "sigmoid, tanh, relu, linear, softmax"]),
    "unknown loss": (_changed(lambda d: d["network"].__setitem__("loss", "hinge")),
                     ["[network] loss", "half_sse, mse, cross_entropy, binary_cross_entropy"]),
    "unknown naming": (_changed(lambda d: d["network"].__setitem__("naming", "greek")),
                       ["[network] naming", "auto, lecture, indexed"]),
    "nan": (_changed(lambda d: d["parameters"]["weights"][0][1].__setitem__(0, float("nan"))),
            ["[parameters] weights[0][1][0]", "finite", "nan"]),
    "inf": (_changed(lambda d: d["data"]["inputs"].__setitem__(0, float("inf"))),
            ["[data] inputs[0]", "finite", "inf"]),
    "a string for a number": (_changed(lambda d: d["training"].__setitem__("learning_rate", "0.5")),
                              ["[training] learning_rate", "expected a number", "'0.5'"]),
    "a bool for a number": (_changed(lambda d: d["data"]["targets"].__setitem__(1, True)),
                            ["[data] targets[1]", "expected a number"]),
    "an integer beyond floats": (GOOD.replace("0.35, 0.6", "1" + "0" * 400 + ", 0.6"),
                                 ["[parameters] biases[0]", "finite"]),
    "learning rate 0": (_changed(lambda d: d["training"].__setitem__("learning_rate", 0.0)),
                        ["[training] learning_rate", "> 0"]),
    "learning rate negative": (_changed(lambda d: d["training"].__setitem__("learning_rate", -1)),
                               ["[training] learning_rate", "> 0"]),
    "iterations 0": (_changed(lambda d: d["training"].__setitem__("iterations", 0)),
                     ["[training] iterations", f"from 1 to {MAX_ITERATIONS}", "got 0"]),
    "iterations absurd": (_changed(lambda d: d["training"].__setitem__("iterations", 10 ** 9)),
                          ["[training] iterations", f"from 1 to {MAX_ITERATIONS}"]),
    "targets outside [0, 1] for cross_entropy": (
        _changed(lambda d: (d["network"].__setitem__("loss", "cross_entropy"),
                            d["data"].__setitem__("targets", [0.0, 1.5]))),
        ["[data] targets[1]", "cross_entropy needs targets in [0, 1]", "1.5"]),
    "negative target for binary_cross_entropy": (
        _changed(lambda d: (d["network"].__setitem__("loss", "binary_cross_entropy"),
                            d["data"].__setitem__("targets", [[0.5, 0.5], [-0.5, 1.0]]),
                            d["data"].__setitem__("inputs", [[0.1, 0.2], [0.3, 0.4]]))),
        ["[data] targets[1][0]", "[0, 1]"]),
    "too large a network": (_changed(lambda d: d["network"].__setitem__("layers", [MAX_NEURONS] * 4)),
                            ["[network] layers", "too large", str(MAX_PARAMETERS)]),
    "too many neurons": (_changed(lambda d: d["network"].__setitem__("layers", [2, MAX_NEURONS + 1, 2])),
                         ["[network] layers[1]", f"from 1 to {MAX_NEURONS}"]),
    "unknown section": (GOOD + "\n[optimizer]\nmomentum = 0.9\n", ["[optimizer]", "unknown section"]),
    "unknown field": (GOOD.replace("[training]", "[training]\nmomentum = 0.9"),
                      ["[training] momentum", "unknown field", "learning_rate"]),
    "unknown top-level field": ("seed = 3\n" + GOOD, ["seed", "unknown field"]),
    "a neuron that overflows": (_changed(lambda d: d["parameters"]["weights"][0].__setitem__(0, [1e308, 1e308])
                                         or d["data"].__setitem__("inputs", [10.0, 10.0])),
                                ["[parameters]", "overflow"]),
    "gradient descent that diverges": (
        _changed(lambda d: (d["network"].__setitem__("activation", "linear"),
                            d["training"].update(learning_rate=100.0, iterations=1000))),
        ["[training] learning_rate", "diverged"]),
    "empty file": ("", ["[network] layers", "missing field"]),
    "not UTF-8": (b"\xff\xfe title".decode("latin-1"), ["cannot read"]),
}


def _check_one_line(result, *words):
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("derive: ")
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_no_file(name, tmp_path):
    text, words = BAD_INPUTS[name]
    spec = tmp_path / "bad.toml"
    if name == "not UTF-8":
        spec.write_bytes(text.encode("latin-1"))
    else:
        spec.write_text(text, encoding="utf-8")
    output = tmp_path / "key.json"
    result = run_cli("key", spec, "-o", output)
    _check_one_line(result, f"derive: {spec}: ", *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_a_bad_spec_leaves_an_existing_key_untouched(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(BAD_INPUTS["nan"][0], encoding="utf-8")
    output = tmp_path / "key.json"
    output.write_text("the previous key\n")
    _check_one_line(run_cli("key", spec, "-o", output), str(spec))
    assert output.read_text() == "the previous key\n"


def test_one_hot_targets_are_valid_for_cross_entropy(tmp_path):
    raw = copy.deepcopy(LECTURE_DICT)
    raw["network"].update(activation=["sigmoid", "softmax"], loss="cross_entropy")
    raw["data"]["targets"] = [0, 1]
    spec = tmp_path / "onehot.toml"
    spec.write_text(toml_text(raw), encoding="utf-8")
    result = run_cli("key", spec)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["loss"]["per_output"][0] == 0.0


def test_a_missing_spec_file(tmp_path):
    missing = tmp_path / "nothing.toml"
    _check_one_line(run_cli("key", missing), str(missing), "no such file")


@pytest.mark.parametrize("where", ["/nonexistent/dir/key.json", "{tmp}"])
def test_an_unwritable_output_path(lecture_path, tmp_path, where):
    target = where.format(tmp=tmp_path)     # a missing folder, or a folder where the file should go
    _check_one_line(run_cli("key", lecture_path, "-o", target), f"derive: {target}: ", "cannot write")
    assert list(tmp_path.iterdir()) == []
