"""Reading a spec: defaults, shapes, and every mistake named by file and field."""
from __future__ import annotations

import pytest

import derive
from derive import DeriveError
from derive.spec import MAX_ITERATIONS, MAX_LAYERS, MAX_NEURONS, MAX_PARAMETERS, MAX_SAMPLES


def test_the_lecture_spec_reads_as_written(lecture_path):
    spec = derive.load(lecture_path)
    assert spec.layers == (2, 2, 2)
    assert spec.activations == ("sigmoid", "sigmoid")
    assert spec.loss == "half_sse"
    assert spec.naming == "lecture"
    assert spec.inputs == ((0.05, 0.10),) and spec.targets == ((0.01, 0.99),)
    assert spec.single_sample
    assert spec.weights == (((0.15, 0.20), (0.25, 0.30)), ((0.40, 0.45), (0.50, 0.55)))
    assert spec.biases == (0.35, 0.60) and spec.shared_biases == (True, True)
    assert (spec.learning_rate, spec.update_biases, spec.iterations) == (0.5, False, 1)
    assert spec.source == str(lecture_path)


def test_every_field_but_the_five_required_has_its_default(lecture_dict):
    for section in ("network", "data", "training"):
        for key in list(lecture_dict[section]):
            if key not in ("layers", "inputs", "targets"):
                del lecture_dict[section][key]
    del lecture_dict["title"]
    spec = derive.parse(lecture_dict)
    assert spec.activations == ("sigmoid", "sigmoid")
    assert (spec.loss, spec.naming_requested, spec.reduction) == ("half_sse", "auto", "sum")
    assert (spec.learning_rate, spec.update_biases, spec.iterations) == (0.5, False, 1)


def test_auto_naming_is_the_lectures_for_one_hidden_layer_and_indexed_beyond(lecture_dict):
    assert derive.parse(lecture_dict).naming == "lecture"
    lecture_dict["network"]["layers"] = [2, 2, 2, 2]
    lecture_dict["parameters"]["weights"].insert(1, [[0.1, 0.2], [0.3, 0.4]])
    lecture_dict["parameters"]["biases"].insert(1, 0.1)
    assert derive.parse(lecture_dict).naming == "indexed"


def test_one_activation_per_layer_and_per_neuron_biases(lecture_dict):
    lecture_dict["network"]["activation"] = ["tanh", "sigmoid"]
    lecture_dict["parameters"]["biases"] = [[0.35, 0.36], 0.6]
    spec = derive.parse(lecture_dict)
    assert spec.activations == ("tanh", "sigmoid")
    assert spec.biases == ((0.35, 0.36), 0.6)
    assert spec.shared_biases == (False, True)


def test_several_samples_are_a_list_of_lists(lecture_dict):
    lecture_dict["data"] = {"inputs": [[0.05, 0.1], [0.2, 0.3]], "targets": [[0.01, 0.99], [1, 0]],
                            "reduction": "mean"}
    spec = derive.parse(lecture_dict)
    assert not spec.single_sample
    assert spec.inputs == ((0.05, 0.1), (0.2, 0.3))
    assert spec.targets == ((0.01, 0.99), (1.0, 0.0))
    assert spec.reduction == "mean"


def test_to_dict_reads_back_as_the_same_spec(lecture_dict):
    spec = derive.parse(lecture_dict)
    assert derive.parse(spec.to_dict()) == spec


def _error(raw: dict) -> DeriveError:
    with pytest.raises(DeriveError) as caught:
        derive.parse(raw, "net.toml")
    return caught.value


@pytest.mark.parametrize("change, field, words", [
    (lambda d: d["network"].pop("layers"), "[network] layers", "missing field"),
    (lambda d: d["parameters"]["weights"][1][0].pop(), "[parameters] weights[1]", "expected shape 2x2"),
    (lambda d: d["parameters"]["biases"].__setitem__(1, [0.6]), "[parameters] biases[1]", "expected 2 numbers"),
    (lambda d: d["data"].__setitem__("inputs", [0.05]), "[data] inputs", "one per input neuron"),
    (lambda d: d["data"].__setitem__("targets", [0.1, 0.2, 0.3]), "[data] targets", "one per output neuron"),
    (lambda d: d["network"].__setitem__("activation", "gelu"), "[network] activation", "sigmoid, tanh, relu"),
    (lambda d: d["network"].__setitem__("loss", "hinge"), "[network] loss", "half_sse, mse, cross_entropy"),
    (lambda d: d["network"].__setitem__("naming", "greek"), "[network] naming", "auto, lecture, indexed"),
    (lambda d: d["parameters"]["weights"][0][0].__setitem__(0, float("nan")), "[parameters] weights[0][0][0]",
     "finite"),
    (lambda d: d["data"]["inputs"].__setitem__(1, float("-inf")), "[data] inputs[1]", "finite"),
    (lambda d: d["parameters"]["biases"].__setitem__(0, "0.35"), "[parameters] biases[0]", "expected a number"),
    (lambda d: d["parameters"]["biases"].__setitem__(0, True), "[parameters] biases[0]", "expected a number"),
    (lambda d: d["training"].__setitem__("learning_rate", 0), "[training] learning_rate", "> 0"),
    (lambda d: d["training"].__setitem__("learning_rate", -0.5), "[training] learning_rate", "> 0"),
    (lambda d: d["training"].__setitem__("iterations", 0), "[training] iterations", "from 1 to"),
    (lambda d: d["training"].__setitem__("iterations", MAX_ITERATIONS + 1), "[training] iterations", "from 1 to"),
    (lambda d: d["training"].__setitem__("iterations", 2.5), "[training] iterations", "whole number"),
    (lambda d: d["training"].__setitem__("update_biases", "yes"), "[training] update_biases", "true or false"),
    (lambda d: d["data"].__setitem__("reduction", "median"), "[data] reduction", "sum, mean"),
    (lambda d: d["network"].__setitem__("layers", [2, MAX_NEURONS + 1, 2]), "[network] layers[1]", "from 1 to"),
    (lambda d: d["network"].__setitem__("layers", [2] * (MAX_LAYERS + 1)), "[network] layers", "2 to"),
    (lambda d: d["network"].__setitem__("layers", [MAX_NEURONS] * MAX_LAYERS), "[network] layers", "too large"),
    (lambda d: d.__setitem__("extra", {"x": 1}), "[extra]", "unknown section"),
    (lambda d: d["training"].__setitem__("speed", 1), "[training] speed", "unknown field"),
    # A TOML integer beyond the float range is not a number we can use (it once raised OverflowError).
    (lambda d: d["parameters"]["biases"].__setitem__(0, 10 ** 400), "[parameters] biases[0]", "finite"),
    # A sample that is not a list is named as such, not blamed on the targets.
    (lambda d: d["data"].update(inputs=[[0.05, 0.1], 0.3]), "[data] inputs[1]", "expected a list"),
])
def test_a_mistake_names_file_field_and_expectation(lecture_dict, change, field, words):
    change(lecture_dict)
    error = _error(lecture_dict)
    assert (error.file, error.field) == ("net.toml", field)
    assert words in error.message
    assert "\n" not in error.line()


def test_too_large_is_a_documented_limit():
    assert MAX_PARAMETERS < MAX_NEURONS * MAX_NEURONS * (MAX_LAYERS - 1)
    assert MAX_SAMPLES >= 1


def test_cross_entropy_needs_targets_in_0_1_and_accepts_one_hot(lecture_dict):
    lecture_dict["network"]["loss"] = "cross_entropy"
    lecture_dict["data"]["targets"] = [0, 1]
    assert derive.parse(lecture_dict).targets == ((0.0, 1.0),)
    lecture_dict["data"]["targets"] = [-0.1, 1]
    assert _error(lecture_dict).field == "[data] targets[0]"
    lecture_dict["network"]["loss"] = "binary_cross_entropy"
    lecture_dict["data"]["targets"] = [0.5, 1.5]
    error = _error(lecture_dict)
    assert error.field == "[data] targets[1]" and "[0, 1]" in error.message


def test_cross_entropy_needs_an_output_that_is_a_probability(lecture_dict):
    lecture_dict["network"].update(loss="cross_entropy", activation="linear")
    assert "sigmoid or softmax" in _error(lecture_dict).message


def test_softmax_only_on_the_output_layer(lecture_dict):
    lecture_dict["network"]["activation"] = ["softmax", "sigmoid"]
    assert "only for the output layer" in _error(lecture_dict).message


def test_lecture_names_fit_one_hidden_layer_only(lecture_dict):
    lecture_dict["network"].update(layers=[2, 2, 2, 2], naming="lecture")
    assert _error(lecture_dict).field == "[network] naming"
