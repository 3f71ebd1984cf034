"""Training: batch_loss, fit (history, progress bar, seams), evaluate, plots, and the acceptance runs.

The acceptance runs of issue 3 come in two sizes: a small one that runs with every
`make test`, and the full one (marked slow, `make test-slow`).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from autograd_lite.data import digits, moons, train_test_split, xor
from autograd_lite.engine import Value
from autograd_lite.losses import binary_cross_entropy, cross_entropy, hinge
from autograd_lite.nn import MLP
from autograd_lite.optim import SGD, Adam, LinearLR
from autograd_lite.plots import model_outputs, plot_decision_boundary, plot_history, plot_images
from autograd_lite.train import (
    BACKENDS,
    DivergenceError,
    History,
    batch_loss,
    eager_gradients,
    evaluate,
    fit,
    predict,
)


def accuracy(model: MLP, data, loss) -> float:
    return evaluate(model, data, loss=loss)[1]


# --- the pieces ------------------------------------------------------------------------------

def test_batch_loss_is_the_mean_of_the_examples_losses() -> None:
    model = MLP(2, [3, 1], seed=0)
    xs, ys = [[0.5, 1.0], [-1.0, 0.2], [0.3, -0.3]], [1, -1, 1]
    total, outputs = batch_loss(model, xs, ys, hinge)
    assert total.data == pytest.approx(sum(hinge(model(x), y).data for x, y in zip(xs, ys)) / 3, rel=1e-15)
    assert [o.data for o in outputs] == [model(x).data for x in xs]
    total.backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    for x, y in zip(xs, ys):  # the gradient of a mean is the mean of the gradients
        (hinge(model(x), y) / 3).backward()
    assert grads == pytest.approx([p.grad for p in model.parameters()], rel=1e-12, abs=1e-15)


def test_eager_gradients_returns_plain_numbers_and_fills_grads() -> None:
    model = MLP(2, [3, 2], seed=0)
    mean, outputs = eager_gradients(model, [[0.5, 1.0], [1.0, 0.0]], [0, 1], cross_entropy)
    assert isinstance(mean, float) and all(isinstance(v, float) for out in outputs for v in out)
    assert any(p.grad != 0 for p in model.parameters())


def test_fit_records_a_history_and_learns() -> None:
    data = moons(30, seed=0)
    model = MLP(2, [8, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.2)
    history = fit(model, data, loss="hinge", optimizer=opt, scheduler=LinearLR(opt, 1.0, 0.5, 4), epochs=4,
                  batch_size=8, validation=(data.X[:10], data.y[:10]), progress=False)
    assert history.epochs == 4
    assert len(history.accuracy) == len(history.val_loss) == len(history.val_accuracy) == 4
    assert history.loss[-1] < history.loss[0]
    assert history.lr == pytest.approx([0.2, 0.175, 0.15, 0.125])  # the scheduler ran once per epoch
    assert opt.steps == 4 * 4  # ceil(30 / 8) updates per epoch
    assert history.val_loss[-1] == pytest.approx(evaluate(model, data.X[:10], data.y[:10], loss=hinge)[0])
    assert repr(history).startswith("History(4 epochs; last: loss ")


def test_fit_with_the_same_seed_is_reproducible() -> None:
    data = moons(20, seed=0)
    runs = []
    for _ in range(2):
        model = MLP(2, [4, 1], seed=1)
        fit(model, data, loss=hinge, lr=0.1, epochs=2, batch_size=5, seed=3, progress=False)
        runs.append(model.state_dict())
    assert runs[0] == runs[1]


def test_fit_takes_numpy_arrays() -> None:
    np = pytest.importorskip("numpy")
    data = moons(20, seed=0)
    runs = []
    for X, y in ((data.X, data.y), (np.array(data.X), np.array(data.y))):
        model = MLP(2, [4, 1], seed=1)
        runs.append(fit(model, X, y, loss=hinge, lr=0.1, epochs=2, batch_size=5, progress=False).loss)
    assert runs[0] == runs[1]


def test_progress_bar_shows_live_loss_and_accuracy(capsys) -> None:
    fit(MLP(2, [2, 1], seed=0), xor(), loss="mse", epochs=3, progress=True)
    err = capsys.readouterr().err
    assert "epoch=3" in err and "loss=" in err and "acc=" in err and "3/3" in err
    fit(MLP(2, [2, 1], seed=0), xor(), loss="mse", epochs=3, progress=False)
    assert capsys.readouterr().err == ""


def test_custom_loss_and_accuracy() -> None:
    def squared(out: Value, y: float) -> Value:
        return (out - y) ** 2

    model = MLP(1, [1], seed=0)
    history = fit(model, [[1.0], [2.0]], [2.0, 4.0], loss=squared, lr=0.05, epochs=3, progress=False)
    assert history.accuracy == []  # no notion of "correct" for an unknown loss
    history = fit(model, [[1.0], [2.0]], [2.0, 4.0], loss=squared, epochs=2, progress=False,
                  accuracy=lambda out, y: abs(out - y) < 100)
    assert history.accuracy == [1.0, 1.0]


def test_callback_can_stop_training() -> None:
    history = fit(MLP(2, [2, 1], seed=0), xor(), loss="mse", epochs=50, progress=False,
                  callback=lambda epoch, h: epoch == 3)
    assert history.epochs == 3


def test_ctrl_c_returns_the_history_so_far() -> None:
    def interrupt(epoch: int, history: History) -> None:
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="interrupted after 2 full epochs"):
        history = fit(MLP(2, [2, 1], seed=0), xor(), loss="mse", epochs=10, progress=False,
                      callback=interrupt)
    assert history.interrupted and history.epochs == 2


def test_divergence_is_reported_before_the_bad_update() -> None:
    model = MLP(1, [4, 1], activation="linear", seed=0)
    X, y = [[float(i)] for i in range(10)], [float(10 * i) for i in range(10)]
    message = r"diverged in epoch \d+, after \d+ updates .*smaller learning rate"
    with pytest.raises(DivergenceError, match=message) as info:
        fit(model, X, y, loss="mse", lr=10.0, epochs=200, progress=False)
    assert all(math.isfinite(p.data) for p in model.parameters())
    assert info.value.history.epochs >= 1
    assert all(math.isfinite(v) for v in info.value.history.loss)  # history.json stays plain numbers


def test_a_backend_plugs_into_fit() -> None:
    calls = []

    def counting(model, xs, ys, loss):
        calls.append(len(xs))
        return eager_gradients(model, xs, ys, loss)

    BACKENDS["counting"] = counting
    try:
        fit(MLP(2, [2, 1], seed=0), xor(), loss="mse", epochs=2, batch_size=3, progress=False,
            backend="counting")
    finally:
        del BACKENDS["counting"]
    assert calls == [3, 1, 3, 1]
    with pytest.raises(ValueError, match="unknown backend 'tapes': available are auto, eager, tape"):
        fit(MLP(2, [2, 1]), xor(), loss="mse", backend="tapes")


def test_the_tape_backend_trains_exactly_like_eager() -> None:
    pytest.importorskip("autograd_lite.tape")
    data = moons(24, seed=0)
    states = []
    for backend in ("eager", "tape"):
        model = MLP(2, [6, 6, 1], seed=0)
        history = fit(model, data, loss=hinge, lr=0.2, epochs=3, batch_size=8, progress=False,
                      backend=backend)
        states.append((model.state_dict(), history.loss))
    (eager, eager_loss), (tape, tape_loss) = states
    assert tape_loss == pytest.approx(eager_loss, rel=1e-12)
    assert list(tape.values()) == pytest.approx(list(eager.values()), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"loss": "hinj"}, "unknown loss 'hinj': choose one of mse"),
    ({"loss": "mse", "epochs": 0}, "epochs must be a whole number >= 1"),
    ({"loss": "mse", "batch_size": 0}, "batch_size must be a whole number >= 1"),
    ({"loss": "mse", "lr": 0.5, "optimizer": SGD([Value(1.0)], lr=0.1)},
     "fit: lr=0.5 would be ignored: the optimizer has its own (0.1); pass it there, "
     "e.g. SGD(model.parameters(), lr=0.5)"),
])
def test_fit_argument_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        fit(MLP(2, [2, 1]), xor(), progress=False, **kwargs)
    assert message in str(info.value)


def test_predict_and_evaluate() -> None:
    model = MLP(2, [3, 2], seed=0)
    data = xor()
    outs = predict(model, data.X)
    assert outs == [[v.data for v in model(x)] for x in data.X]
    loss, acc = evaluate(model, data, loss=cross_entropy)
    assert loss == pytest.approx(sum(cross_entropy(model(x), t).data for x, t in data) / 4)
    assert acc == sum(max(range(2), key=o.__getitem__) == t for o, t in zip(outs, data.y)) / 4


# --- pictures ---------------------------------------------------------------------------------

@pytest.mark.parametrize("activations", [["relu", "tanh", "linear"], ["sigmoid", "leaky_relu", "sigmoid"]])
def test_the_grid_replayed_on_the_tape_equals_the_model(activations: list[str]) -> None:
    model = MLP(2, [5, 4, 3], activation=activations, seed=2)
    rnd = random.Random(0)
    points = [[rnd.uniform(-2, 2), rnd.uniform(-2, 2)] for _ in range(20)]
    grid = model_outputs(model, np.array(points))
    eager = predict(model, points)
    for row, out in zip(grid.tolist(), eager):
        assert row == pytest.approx(out, rel=1e-12, abs=1e-15)
    for p in model.parameters():  # the recording reads the weights again at every replay
        p.data *= -0.5
    np.testing.assert_allclose(model_outputs(model, np.array(points)), predict(model, points), rtol=1e-12)


def test_a_model_the_tape_cannot_replay_is_called_point_by_point() -> None:
    def sign(x):  # looks at the value: a different graph for every sign of x1
        x1 = x[0] + Value(0.0)
        return x1 * 2.0 if x1.data > 0 else x1 * -1.0

    assert model_outputs(sign, np.array([[1.0, 0.0], [-3.0, 0.0]])).tolist() == [[2.0], [3.0]]


def test_plot_history_and_png_for_jupyter() -> None:
    history = History(loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0], val_loss=[1.1, 0.7, 0.5],
                      val_accuracy=[0.5, 0.5, 0.75])
    fig = plot_history(history)
    loss_ax, acc_ax = fig.axes
    assert [list(line.get_ydata()) for line in loss_ax.lines] == [history.loss, history.val_loss]
    assert [list(line.get_ydata()) for line in acc_ax.lines] == [history.accuracy, history.val_accuracy]
    assert fig._repr_png_().startswith(b"\x89PNG")  # Jupyter shows it without pyplot
    assert len(plot_history(History(loss=[1.0, 0.5])).axes) == 1  # no accuracy: one panel


def _colour_class(fig, x: float, y: float) -> int:
    """Which region colour (blue: class 0, orange: class 1, both pale) the figure shows at (x, y)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())
    px, py = fig.axes[0].transData.transform((x, y))
    r, _, b, _ = pixels[pixels.shape[0] - int(round(py)), int(round(px))].astype(int)
    assert abs(r - b) > 20, (r, b)  # clearly one of the two tints, not a line or a point
    return int(r > b)


@pytest.mark.parametrize(("output", "bias", "points"), [
    ("linear", 0.0, {-0.15: 0, 0.25: 1, 1.15: 1}),  # class 1 where x1 > 0 (the output above 0)
    ("sigmoid", -0.5, {-0.15: 0, 0.25: 0, 0.75: 1}),  # sigmoid(x1 - 0.5) > 0.5 where x1 > 0.5
])
def test_decision_boundary_colours_the_predicted_class(tmp_path, output, bias, points) -> None:
    model = MLP(2, [1], activation="linear", output_activation=output, seed=0)
    w1, w2, b = model.parameters()
    w1.data, w2.data, b.data = 1.0, 0.0, bias
    fig = plot_decision_boundary(model, xor(), resolution=80)  # the plane from -0.25 to 1.25
    assert {x1: _colour_class(fig, x1, 0.5) for x1 in points} == points
    fig.savefig(tmp_path / "boundary.png")
    assert (tmp_path / "boundary.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="needs 2-D inputs"):
        plot_decision_boundary(MLP(3, [1]), [[1.0, 2.0, 3.0]], [1])


def test_plot_images_shows_mistakes_first_in_red() -> None:
    model = MLP(4, [2], activation="linear", output_activation="linear", seed=0)
    for j, neuron in enumerate(model.layers[0].neurons):  # output j = pixel j: the brighter of pixels 0, 1
        for i, w in enumerate(neuron.w):
            w.data = 1.0 if i == j else 0.0
    X = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.5, 0.5]]
    fig = plot_images(model, X, [0, 1, 1], shape=(2, 2), title="t")
    titles = [(ax.get_title(), ax.title.get_color()) for ax in fig.axes]
    assert titles == [("0 (1)", "red"), ("0", "black"), ("1", "black")]
    assert fig.axes[0].images[0].get_array().tolist() == [[1.0, 0.0], [0.5, 0.5]]


# --- acceptance (issue 3): small versions run always, full versions are marked slow ----------

def test_moons_hinge_reaches_100_percent_train_accuracy_small() -> None:
    train = moons(40, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.3, weight_decay=1e-4)
    fit(model, train, loss=hinge, optimizer=opt, scheduler=LinearLR(opt, 1.0, 0.1, 30), epochs=30,
        batch_size=8, progress=False)
    assert accuracy(model, train, hinge) == 1.0


def test_xor_2_2_1_sigmoid_network_learns_every_point() -> None:  # seed 002's network
    data = xor()
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    fit(model, data, loss=binary_cross_entropy, optimizer=SGD(model.parameters(), lr=1.0, momentum=0.9),
        epochs=1000, progress=False)
    errors = [abs(p - t) for p, t in zip(predict(model, data.X), data.y)]
    assert max(errors) < 0.05, errors


def test_digits_learns_from_a_small_subset() -> None:
    pytest.importorskip("sklearn")
    train, test = train_test_split(digits(), 0.2, seed=0)
    model = MLP(64, [16, 16, 10], init="fan_in", seed=0)
    fit(model, train.X[:100], train.y[:100], loss=cross_entropy, optimizer=Adam(model.parameters(), lr=0.03),
        epochs=5, batch_size=10, progress=False)  # 100 examples: the full run is test_digits_reach_95_...
    assert evaluate(model, test.X[:200], test.y[:200], loss=cross_entropy)[1] >= 0.5  # chance is 0.1


def _tape() -> None:
    pytest.importorskip("autograd_lite.tape")


# the full runs: the batched tape gives the same numbers as eager, only faster (see test above)
FULL = [pytest.param("tape", id="tape"), pytest.param("eager", id="eager", marks=pytest.mark.slow)]


@pytest.mark.parametrize("backend", FULL)
def test_moons_hinge_full_micrograd_demo(backend: str) -> None:
    """micrograd's demo: 100 moons, MLP(2, [16, 16, 1]), hinge + L2, 100 full-batch steps, lr 1.0 -> 0.1."""
    if backend == "tape":
        _tape()
    data = moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    opt = SGD(model.parameters(), lr=1.0, weight_decay=2e-4)  # L2 term 1e-4 * sum(p^2) has gradient 2e-4 * p
    fit(model, data, loss=hinge, optimizer=opt, scheduler=LinearLR(opt, 1.0, 0.1, 100), epochs=100,
        progress=False, backend=backend)
    assert accuracy(model, data, hinge) == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tape", "eager"])
def test_digits_reach_95_percent_held_out(backend: str) -> None:
    pytest.importorskip("sklearn")
    if backend == "tape":
        _tape()
    train, test = train_test_split(digits(), 0.2, seed=0)
    model = MLP(64, [16, 16, 10], init="fan_in", seed=0)
    opt = Adam(model.parameters(), lr=0.01)
    fit(model, train, loss=cross_entropy, optimizer=opt, scheduler=LinearLR(opt, 1.0, 0.1, 10), epochs=10,
        batch_size=16, progress=False, backend=backend)  # the CLI's `autograd-lite train digits`
    assert accuracy(model, test, cross_entropy) >= 0.95
