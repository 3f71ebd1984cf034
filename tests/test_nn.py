"""nn: Neuron, Layer, MLP -- micrograd's conventions, names, state dicts, saving, to_torch."""

from __future__ import annotations

import json
import math
import os
import pickle
import random
import tracemalloc
from pathlib import Path

import pytest

from autograd_lite.engine import Value
from autograd_lite.nn import MLP, Layer, ModelFileError, Neuron, to_torch


def set_weights(model: MLP, rng: random.Random) -> None:
    for p in model.parameters():
        p.data = rng.uniform(-1, 1)


# --- micrograd's calling conventions -----------------------------------------------------

def test_micrograd_calling_conventions() -> None:
    n = Neuron(2)
    assert n.activation == "relu" and len(n.parameters()) == 3  # micrograd's Neuron is a ReLU neuron
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)  # one neuron: a single Value, as micrograd
    out = Layer(2, 3)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3
    model = MLP(2, [16, 16, 1])
    assert isinstance(model([2.0, -1.0]), Value)
    assert model.activations == ["relu", "relu", "linear"]  # last layer linear, as micrograd
    assert len(MLP(3, [4, 2])([1.0, 2.0, 3.0])) == 2
    assert Neuron(2, nonlin=False).activation == "linear"  # micrograd's keyword still works


def test_same_weights_outputs_and_gradients_as_micrograd_for_the_same_random_seed() -> None:
    micrograd_nn = pytest.importorskip("micrograd.nn")
    random.seed(1337)
    ours = MLP(2, [16, 16, 1])
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    for x in ([0.3, -0.7], [1.5, 0.2], [-1.0, 0.5]):
        a, b = ours(x), theirs(x)
        assert a.data == pytest.approx(b.data, rel=1e-12, abs=1e-14)
        ((1 - a).relu()).backward()
        ((1 - b).relu()).backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-14)


def test_inputs_may_be_values_and_get_gradients() -> None:
    model = MLP(2, [3, 1], activation="tanh", seed=1)
    x = [Value(0.5, label="x1"), Value(-1.5, label="x2")]
    model(x).backward()
    h = 1e-6
    for i in range(2):
        up = [v.data for v in x]
        down = list(up)
        up[i] += h
        down[i] -= h
        numeric = (model(up).data - model(down).data) / (2 * h)
        assert x[i].grad == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_a_hidden_layer_of_width_one_works() -> None:  # micrograd crashes on MLP(2, [16, 1, 1])
    model = MLP(2, [16, 1, 1], activation="tanh", seed=0)
    out = model([0.5, -0.25])
    assert isinstance(out, Value)
    out.backward()
    assert any(p.grad != 0 for p in model.layers[0].parameters())  # gradients flow through the 1-wide layer
    single = MLP(1, [1], activation="linear", output_activation="linear", seed=0)
    w, b = single.parameters()  # nin = 1 takes a single number too
    assert single(2.0).data == pytest.approx(2.0 * w.data + b.data)


# --- construction -------------------------------------------------------------------------

def test_seeds_make_initialisation_reproducible() -> None:
    assert MLP(2, [4, 1], seed=3).state_dict() == MLP(2, [4, 1], seed=3).state_dict()
    assert MLP(2, [4, 1], seed=3).state_dict() != MLP(2, [4, 1], seed=4).state_dict()
    a, b = MLP(2, [4, 1], seed=random.Random(9)), MLP(2, [4, 1], seed=random.Random(9))
    assert a.state_dict() == b.state_dict()


@pytest.mark.parametrize(("init", "bound"), [("uniform", 1.0), ("fan_in", 1 / math.sqrt(64))])
def test_initialisations(init: str, bound: float) -> None:
    layer = Layer(64, 8, init=init, seed=0)
    weights = [w.data for n in layer.neurons for w in n.w]
    assert all(-bound <= w <= bound for w in weights)
    assert max(abs(w) for w in weights) > 0.8 * bound  # actually uses the range
    assert all(n.b.data == 0.0 for n in layer.neurons)  # biases start at 0, as micrograd


@pytest.mark.parametrize(("activation", "f"), [
    ("relu", lambda z: max(z, 0.0)), ("tanh", math.tanh), ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
    ("leaky_relu", lambda z: z if z > 0 else 0.01 * z), ("linear", lambda z: z)])
def test_each_activation(activation: str, f) -> None:
    n = Neuron(2, activation)
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -2.0, 0.25
    for x in ([1.0, 1.0], [1.0, -1.0]):
        z = 0.5 * x[0] - 2.0 * x[1] + 0.25
        assert n(x).data == pytest.approx(f(z), rel=1e-15)


def test_activation_per_layer() -> None:
    model = MLP(2, [3, 3, 1], activation=["tanh", "relu", "sigmoid"])
    assert model.activations == ["tanh", "relu", "sigmoid"]
    assert MLP(2, [3, 1], "sigmoid", "sigmoid").activations == ["sigmoid", "sigmoid"]


def test_names_and_labels() -> None:
    model = MLP(2, [2, 1])
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0", "layers.0.neurons.1.w.1", "layers.0.neurons.1.b",
        "layers.1.neurons.0.w.0", "layers.1.neurons.0.w.1", "layers.1.neurons.0.b"]
    assert [p.label for p in model.parameters()[:3]] == ["w1", "w2", "b"]  # what drawings show
    big = MLP(2, [16, 16, 1])
    assert dict(big.named_parameters())["layers.0.neurons.3.w.1"] is big.layers[0].neurons[3].w[1]
    assert big.num_parameters() == len(big.parameters()) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1


def test_repr_is_readable() -> None:
    assert repr(MLP(2, [16, 16, 1])) == (
        "MLP(2 -> 16 -> 16 -> 1, 337 parameters\n"
        "  (layers.0): Layer(2 -> 16, relu)\n"
        "  (layers.1): Layer(16 -> 16, relu)\n"
        "  (layers.2): Layer(16 -> 1, linear)\n)")
    assert repr(Neuron(3, "tanh")) == "Neuron(3, activation='tanh')"


@pytest.mark.parametrize(("make", "message"), [
    (lambda: MLP(2, []), "non-empty list of layer sizes"),
    (lambda: MLP(2, 3), "non-empty list of layer sizes"),
    (lambda: MLP(0, [1]), "MLP(nin) must be a whole number >= 1"),
    (lambda: MLP(2, [4, 0]), "Layer(nout) must be a whole number >= 1"),
    (lambda: MLP(2, [4, 1], activation="rleu"), "unknown activation 'rleu': choose one of relu"),
    (lambda: MLP(2, [4, 1], activation=["relu"]), "give one activation per layer (2 names)"),
    (lambda: MLP(2, [4, 1], init="he"), "unknown init 'he'"),
    (lambda: MLP(2, [4, 1], seed="x"), "seed must be an int"),
])
def test_construction_errors(make, message: str) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert message in str(info.value)


def test_wrong_number_of_inputs_says_what_was_expected() -> None:
    with pytest.raises(ValueError, match=r"Layer\(2 -> 4, relu\) expects 2 inputs, got 3: \[1.0, 2.0, 3.0\]"):
        MLP(2, [4, 1])([1.0, 2.0, 3.0])


@pytest.mark.parametrize(("x", "got"), [(None, "nothing"), ("ab", "str 'ab'"), ({1, 2}, "set {1, 2}")])
def test_inputs_that_are_not_a_list_say_what_the_module_expects(x, got: str) -> None:
    with pytest.raises(TypeError) as info:
        MLP(2, [4, 1])(x)
    assert str(info.value) == (f"Layer(2 -> 4, relu) expects 2 inputs (a list of numbers or Values, "
                               f"one per input), got {got}")


def test_zero_grad() -> None:
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


# --- state dicts ---------------------------------------------------------------------------

def test_state_dict_round_trip() -> None:
    a, b = MLP(3, [4, 2], seed=1), MLP(3, [4, 2], seed=2)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    assert b([0.1, 0.2, 0.3])[1].data == a([0.1, 0.2, 0.3])[1].data


def test_load_state_dict_checks_everything_before_changing_anything() -> None:
    model = MLP(2, [2, 1], seed=0)
    before = model.state_dict()
    state = dict(before)
    del state["layers.0.neurons.0.b"]
    state["layers.9.w"] = 1.0
    with pytest.raises(ValueError, match=r"missing 'layers.0.neurons.0.b', unexpected 'layers.9.w'"):
        model.load_state_dict(state)
    bad = {k: 0.5 for k in before} | {"layers.1.neurons.0.b": float("nan")}
    with pytest.raises(ValueError, match=r"'layers.1.neurons.0.b': expected a finite number, got nan"):
        model.load_state_dict(bad)
    assert model.state_dict() == before  # nothing was half-loaded
    model.load_state_dict({"layers.1.neurons.0.b": 2.0, "extra": 1.0}, strict=False)
    assert model.layers[1].neurons[0].b.data == 2.0


# --- saving to JSON -------------------------------------------------------------------------

def test_save_and_load_round_trip(tmp_path) -> None:
    model = MLP(3, [5, 1, 2], activation=["tanh", "leaky_relu", "sigmoid"], seed=4)
    path = tmp_path / "model.json"
    model.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]  # no temporary file left behind
    assert path.stat().st_mode & 0o644 == 0o644  # readable as a normal file (mkstemp's default is 0600)
    saved = json.loads(path.read_text())
    assert saved["format"] == "autograd_lite.MLP" and saved["nin"] == 3
    assert [layer["activation"] for layer in saved["layers"]] == ["tanh", "leaky_relu", "sigmoid"]
    loaded = MLP.load(path)
    assert loaded.state_dict() == model.state_dict()  # floats survive JSON exactly
    assert repr(loaded) == repr(model)
    assert [v.data for v in loaded([0.1, -0.2, 0.3])] == [v.data for v in model([0.1, -0.2, 0.3])]


def test_a_model_with_nan_weights_is_not_saved(tmp_path) -> None:
    model = MLP(2, [2, 1], seed=0)
    model.layers[1].neurons[0].b.data = float("nan")
    with pytest.raises(ValueError, match=r"'layers.1.neurons.0.b' is nan or inf \(did training diverge"):
        model.save(tmp_path / "model.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, failing) -> None:
    import os
    path = tmp_path / "model.json"
    path.write_text("the previous model")

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, disk_full)
    with pytest.raises(OSError, match="No space left"):
        MLP(2, [2, 1], seed=0).save(path)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]
    assert path.read_text() == "the previous model"


def good_file() -> dict:
    return MLP(2, [2, 1], seed=0).to_dict()


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: [d], "expected a JSON object"),
    (lambda d: d | {"format": "pickle"}, "not an autograd_lite MLP"),
    (lambda d: d | {"version": 2}, "newer than this autograd_lite reads"),
    (lambda d: d | {"nin": -1}, '"nin" must be a whole number >= 1, got -1'),
    (lambda d: d | {"nin": 3}, "layers[0].weights[0] must be a list of 3 numbers"),
    (lambda d: d | {"layers": []}, '"layers" must be a non-empty list'),
    (lambda d: d | {"layers": [d["layers"][0] | {"activation": "__import__('os')"}]}, "is not one of relu"),
    (lambda d: d | {"layers": [d["layers"][0] | {"biases": [0.0]}]}, "of the same length"),
    (lambda d: d | {"layers": [d["layers"][0], d["layers"][1] | {"weights": [[1.0, "2"]]}]},
     "layers[1].weights[0][1] must be a finite number, got '2'"),
    (lambda d: d | {"layers": [d["layers"][0] | {"biases": [True, 0.0]}]},
     "layers[0].biases[0] must be a finite"),
])
def test_malformed_model_data_is_rejected_with_a_clear_message(change, message: str, tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(change(good_file())))
    with pytest.raises(ModelFileError) as info:
        MLP.load(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(("content", "message"), [
    (None, "not valid JSON"),  # truncated: the first half of a good file
    (b'{"format": "autograd_lite.MLP", "version": 1, "nin": NaN}', "NaN is not a number a model can hold"),
    (b'{"format": "autograd_lite.MLP", "version": 1, "nin": 2, "layers": [{"activation": "relu", '
     b'"weights": [[1e999, 0]], "biases": [0]}]}', "must be a finite number, got inf"),
    (b"[" * 100_000 + b"]" * 100_000, "cannot be read as a model"),  # deep nesting: no RecursionError escapes
    (b'{"nin": ' + b"9" * 5000 + b"}", "cannot be read as a model"),  # a number too long to convert
    (b"\xff\xfe\x00garbage", "not a text (UTF-8) file"),
    (b"", "not valid JSON"),
])
def test_broken_files_raise_model_file_errors(content: bytes | None, message: str, tmp_path) -> None:
    path = tmp_path / "broken.json"
    if content is None:
        text = json.dumps(good_file())
        content = text[: len(text) // 2].encode()
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="broken.json") as info:
        MLP.load(path)
    assert message in str(info.value)


class _Boobytrap:
    def __reduce__(self):  # unpickling this would create a file
        return (open, (str(_Boobytrap.target), "w"))


def test_a_pickle_is_never_executed(tmp_path) -> None:
    _Boobytrap.target = tmp_path / "pwned"
    path = tmp_path / "model.json"
    path.write_bytes(pickle.dumps(_Boobytrap()))
    with pytest.raises(ModelFileError):
        MLP.load(path)
    assert not _Boobytrap.target.exists()


def test_huge_files_are_refused_before_reading(tmp_path, monkeypatch) -> None:
    import autograd_lite.model_file as nn

    monkeypatch.setattr(nn, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(good_file()))
    with pytest.raises(ModelFileError, match="too large for a model file"):
        MLP.load(path)


def test_numbers_and_types_that_break_conversion_are_model_file_errors(tmp_path) -> None:
    base = good_file()
    for bad, message in [(10**400, "integer of 401 digits, too large for a float"),
                         ([1.0], "must be a finite number, got [1.0]"),
                         ({"x": 1}, "must be a finite number")]:
        data = base | {"layers": [base["layers"][0], base["layers"][1] | {"biases": [bad]}]}
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(data))
        with pytest.raises(ModelFileError, match="layers.1..biases.0.") as info:
            MLP.load(path)
        assert message in str(info.value)
    for field, value in [("nin", 2.0), ("nin", 10**400), ("version", True), ("format", ["x"])]:
        path.write_text(json.dumps(base | {field: value}))
        with pytest.raises(ModelFileError, match=field):
            MLP.load(path)


def test_the_number_of_weights_is_capped_before_any_is_built(tmp_path) -> None:
    path = tmp_path / "model.json"
    MLP(2, [2, 1], seed=0).save(path)  # 6 + 3 = 9 weights and biases
    assert MLP.load(path, max_weights=9).num_parameters() == 9
    with pytest.raises(ModelFileError, match="more than 8 weights and biases .max_weights."):
        MLP.load(path, max_weights=8)
    # a 4.5 MB file that declares 2.25 million weights ("0,0,0,..."): refused with little memory used
    rows = "[" + ",".join(["0"] * 1500) + "]"
    path.write_text('{"format": "autograd_lite.MLP", "version": 1, "nin": 1500, "layers": [{"activation": '
                    '"relu", "weights": [' + ",".join([rows] * 1500) + '], "biases": [' +
                    ",".join(["0"] * 1500) + "]}]}")
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="more than 2,000,000 weights"):
            MLP.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * path.stat().st_size  # the parsed JSON only (~4 bytes a byte): no Value was made


def test_loading_a_multi_megabyte_model_costs_under_20_bytes_per_file_byte(tmp_path) -> None:
    path = tmp_path / "model.json"
    MLP(300, [300, 1], seed=0).save(path)  # 90 601 weights, ~2.4 MB as save writes it
    size = path.stat().st_size
    assert size > 2_000_000
    tracemalloc.start()
    try:
        model = MLP.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert model.num_parameters() == 90_601
    assert peak < 20 * size, f"{peak / size:.1f} bytes of memory per file byte"


# --- where save may write ------------------------------------------------------------------

def test_save_into_a_missing_folder_names_the_path_given(tmp_path) -> None:
    path = tmp_path / "no-such-folder" / "model.json"
    with pytest.raises(FileNotFoundError) as caught:
        MLP(2, [1], seed=0).save(path)
    assert caught.value.filename == str(path) and ".tmp" not in str(caught.value)  # was .model.json.x1y2.tmp


def test_save_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path) -> None:
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    MLP(2, [2, 1], seed=0).save(link)
    assert link.is_symlink() and link.resolve() == target
    assert MLP.load(target).state_dict() == MLP(2, [2, 1], seed=0).state_dict()
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "new.json")  # a link to a new path: the new file is created
    MLP(2, [2, 1], seed=0).save(dangling)
    assert dangling.is_symlink() and (tmp_path / "new.json").is_file()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["dangling.json", "link.json", "new.json", "real.json"]  # no temporary file left


@pytest.mark.parametrize("kind", ["directory", "fifo", "device", "empty path", "link to a directory"])
def test_save_refuses_anything_but_a_regular_file_and_changes_nothing(kind: str, tmp_path,
                                                                      monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = {"directory": tmp_path / "model.json", "fifo": tmp_path / "fifo", "device": Path("/dev/null"),
            "empty path": "", "link to a directory": tmp_path / "link"}[kind]
    if kind == "directory":
        path.mkdir()  # type: ignore[union-attr]
        (path / "inside").write_text("kept")  # type: ignore[operator]
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link to a directory":
        (tmp_path / "dir").mkdir()
        path.symlink_to(tmp_path / "dir")  # type: ignore[union-attr]
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    with pytest.raises(ModelFileError, match="not a regular file; a model is only written to a new path"):
        MLP(2, [2, 1], seed=0).save(path)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # no temporary file either
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize("path", ["/dev/zero", "fifo"])
def test_load_refuses_devices_and_fifos_instead_of_reading_forever(path: str, tmp_path) -> None:
    if path == "fifo":
        path = str(tmp_path / "fifo")
        os.mkfifo(path)
    with pytest.raises(ModelFileError, match="not a model file"):
        MLP.load(path)


# --- to_torch ------------------------------------------------------------------------------

def test_to_torch_gives_the_same_outputs_and_gradients() -> None:
    torch = pytest.importorskip("torch")
    model = MLP(3, [5, 1, 4, 2], activation=["tanh", "relu", "leaky_relu", "sigmoid"], seed=0)
    set_weights(model, random.Random(1))
    model.layers[1].neurons[0].b.data = 2.0  # keep the width-1 relu layer active
    net = to_torch(model)
    assert net[0].weight.dtype == torch.float64
    x = [0.3, -1.2, 0.8]
    out = model(x)
    loss = (out[0] - 0.25) ** 2 + out[1] * 3
    loss.backward()
    tout = net(torch.tensor([x], dtype=torch.float64))[0]
    tloss = (tout[0] - 0.25) ** 2 + tout[1] * 3
    tloss.backward()
    assert [o.data for o in out] == pytest.approx(tout.tolist(), rel=1e-14)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for layer, linear in zip(model.layers, linears):
        for j, neuron in enumerate(layer.neurons):
            expected = linear.weight.grad[j].tolist()
            assert [w.grad for w in neuron.w] == pytest.approx(expected, rel=1e-12, abs=1e-15)
            assert neuron.b.grad == pytest.approx(linear.bias.grad[j].item(), rel=1e-12, abs=1e-15)
