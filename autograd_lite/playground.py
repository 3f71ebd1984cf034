"""A TensorFlow-Playground-like widget for Jupyter: pick data and a network, press Train, watch it learn.

    from autograd_lite.playground import Playground
    Playground()                 # in a notebook cell: controls, buttons and live pictures

Controls: data set (xor, moons, circles, spirals) and noise, hidden layers and their
widths, activation, loss, optimizer, learning rate, batch size, and the speed (steps per
second, slow enough to watch, or as fast as it goes). Train runs batches in a
background thread, so the page stays live and Pause answers between two batches; Step
does one batch; Reset puts back the weights of the seed. The pictures: the decision
boundary with the training (filled) and test (open) points, the train and test loss per
epoch, and the network with every weight coloured by its sign and as thick as it is large.
"Explain one example" opens the Stepper on the loss of the training example the model
gets most wrong (ringed in red on the plane): every chain-rule step of its backward pass,
on the current weights.

Every batch goes through `train.Step` with fit's backends ("auto": the tape when it can
replay the model and loss). One lock guards the model: a batch, a redraw and an
explanation never run at the same time.
"""

from __future__ import annotations

import html
import random
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from autograd_lite import data as datasets
from autograd_lite.backend import resolve
from autograd_lite.engine import Value
from autograd_lite.history import History
from autograd_lite.losses import CORRECT, LOSSES
from autograd_lite.modes import no_grad
from autograd_lite.nn import MLP
from autograd_lite.optim import OPTIMIZERS
from autograd_lite.plots import COLORS, draw_decision_boundary, draw_history, draw_network, figure_class, png
from autograd_lite.train import Step, measure_epoch, measurer

DATASETS = ("xor", "moons", "circles", "spirals")
REFRESH = 0.25  # seconds between redraws while training, at least...
BUDGET = 0.3  # ...and so that drawing takes about this share of the time


@dataclass(frozen=True)
class Settings:
    """Everything the controls choose. Changing data or network rebuilds both (from `seed`)."""

    dataset: str = "moons"
    noise: float = 0.1
    samples: int = 200
    hidden: tuple[int, ...] = (4, 4)
    activation: str = "tanh"
    loss: str = "hinge"
    optimizer: str = "adam"
    lr: float = 0.03
    batch_size: int = 16
    seed: int = 0
    backend: str = "auto"


def make_data(s: Settings) -> tuple[datasets.Dataset, datasets.Dataset]:
    """(train, test): half of the points each, as in TensorFlow Playground."""
    if s.dataset == "xor":
        data = _xor(s.samples, s.noise, s.seed)
    elif s.dataset in ("moons", "circles", "spirals"):
        data = getattr(datasets, s.dataset)(s.samples, noise=s.noise, seed=s.seed)
    else:
        raise ValueError(f"Playground: unknown data set {s.dataset!r}: choose one of {', '.join(DATASETS)}")
    return datasets.train_test_split(data, 0.5, seed=s.seed)


def make_model(s: Settings) -> MLP:
    """The network for the settings: one output (two for cross_entropy), sigmoid for binary_cross_entropy."""
    outputs = 2 if s.loss == "cross_entropy" else 1
    last = "sigmoid" if s.loss == "binary_cross_entropy" else "linear"
    return MLP(2, [*s.hidden, outputs], s.activation, last, seed=s.seed)


class Trainer:
    """The playground without the widgets: data, model, optimizer, and batches one at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """New data and a new model from the settings' seed; nothing trained yet."""
        s = self.settings
        with self.lock:
            self.train, self.test = make_data(s)
            self.model = make_model(s)
            self.loss = LOSSES[s.loss]
            self.optimizer = OPTIMIZERS[s.optimizer](self.model.parameters(), lr=s.lr)
            self.step = Step(self.model, resolve(s.backend), self.loss, self.optimizer)
            self.measure = measurer(self.loss, CORRECT.get(self.loss))
            self.rng = random.Random(s.seed)
            self.history = History()
            self.batch_in_epoch = 0
            self._batches = self._epoch()
            self._now: tuple[int, dict[str, float | None]] | None = None  # (steps, numbers) of current()

    def change(self, **changes: Any) -> None:
        """Apply control changes: the learning rate and batch size take effect at once, the rest reset."""
        old, self.settings = self.settings, replace(self.settings, **changes)
        if set(changes) <= {"lr", "batch_size"}:
            with self.lock:
                self.optimizer.lr = self.settings.lr
                if self.settings.batch_size != old.batch_size:
                    self._batches = self._epoch()  # the next batches have the new size
                    self.batch_in_epoch = 0
        else:
            self.reset()

    def one_batch(self) -> float:
        """One update on the next batch; after the epoch's last batch, measure train and test loss."""
        with self.lock:
            batch = next(self._batches, None)
            if batch is None:
                self._batches = self._epoch()
                batch = next(self._batches)
            loss = self.step(*batch)
            self.batch_in_epoch += 1
            if self.batch_in_epoch * self.settings.batch_size >= len(self.train):
                self._end_epoch()
            return loss

    @property
    def steps(self) -> int:
        return self.optimizer.steps

    def _epoch(self) -> Any:
        return datasets.batches(self.train.X, self.train.y, self.settings.batch_size, rng=self.rng)

    def _end_epoch(self) -> None:
        self.batch_in_epoch = 0
        self.history.lr.append(self.optimizer.lr)
        measure_epoch(self.history, self.measure, self.step, (self.train.X, self.train.y),
                      (self.test.X, self.test.y))  # as fit does; the test set is its validation

    def current(self) -> dict[str, float | None]:
        """Train and test loss and accuracy of the model as it is now (the readout's numbers);
        measured again only when a step has changed the model."""
        with self.lock:
            if self._now is None or self._now[0] != self.steps:
                self._now = self.steps, self._measure()
            return self._now[1]

    def _measure(self) -> dict[str, float | None]:
        h = self.history
        if h.epochs and self.batch_in_epoch == 0:  # just measured at the end of an epoch
            train, test = (h.loss[-1], h.accuracy[-1] if h.accuracy else None), \
                (h.val_loss[-1], h.val_accuracy[-1] if h.val_accuracy else None)
        else:
            train = self.measure(self.model, self.train.X, self.train.y)
            test = self.measure(self.model, self.test.X, self.test.y)
        return {"train loss": train[0], "test loss": test[0], "train accuracy": train[1],
                "test accuracy": test[1]}

    def explain(self) -> Any:
        """A Stepper on the loss of the training example with the largest loss (nearest the boundary
        among equals), on the current weights; also returns the example's index."""
        from autograd_lite.stepper import Stepper

        with self.lock:
            with no_grad():
                outputs = [self.model(x) for x in self.train.X]
                losses = [self.loss(out, t).data for out, t in zip(outputs, self.train.y)]
            margins = [abs(o.data) if isinstance(o, Value) else 0.0 for o in outputs]
            # ties (all at 0, say, once hinge is satisfied): the point nearest the boundary
            worst = max(range(len(losses)), key=lambda i: (losses[i], -margins[i]))
            x, target = self.train[worst]
            inputs = [Value(v, label=f"x{i + 1}") for i, v in enumerate(x)]
            loss = self.loss(self.model(inputs), target)
            loss.label = "loss"
            return worst, Stepper(loss, params=self.model, keep_grads=False)


class Playground:
    """The widget (see the module doc). `Playground(dataset="spirals", hidden=(8, 8))` sets the
    starting controls; in a notebook, the last line of a cell shows it."""

    def __init__(self, **settings: Any) -> None:
        try:
            import ipywidgets as w
        except ImportError as e:
            raise ImportError("the playground needs ipywidgets: pip install ipywidgets (or the package's "
                              "notebooks extra, pip install 'autograd_lite[notebooks]')") from e

        self.trainer = Trainer(Settings(**settings))
        s = self.trainer.settings
        self._running = threading.Event()  # set while the training thread should go on
        self._thread: threading.Thread | None = None
        self._next_draw = 0.0
        self.error: Exception | None = None  # what stopped the training thread, if anything failed
        wide = {"style": {"description_width": "90px"}, "layout": w.Layout(width="270px")}
        self.controls = {
            "dataset": w.Dropdown(options=DATASETS, value=s.dataset, description="data", **wide),
            "noise": w.FloatSlider(value=s.noise, min=0.0, max=0.5, step=0.01, description="noise", **wide),
            "hidden": w.Text(value=",".join(map(str, s.hidden)), description="hidden layers",
                             continuous_update=False, **wide),
            "activation": w.Dropdown(options=["tanh", "relu", "leaky_relu", "sigmoid"], value=s.activation,
                                     description="activation", **wide),
            "loss": w.Dropdown(options=list(LOSSES), value=s.loss, description="loss", **wide),
            "optimizer": w.Dropdown(options=list(OPTIMIZERS), value=s.optimizer, description="optimizer",
                                    **wide),
            "lr": w.FloatLogSlider(value=s.lr, base=10, min=-4, max=0.5, step=0.1, readout_format=".3g",
                                   description="learning rate", **wide),
            "batch_size": w.IntSlider(value=s.batch_size, min=1, max=100, description="batch size", **wide),
        }
        for name, control in self.controls.items():
            control.observe(self._changed(name), names="value")
        self.speed = w.Dropdown(options=[("slow: 20 steps/s", 20), ("100 steps/s", 100),
                                         ("as fast as it goes", 0)], value=100, description="speed", **wide)
        self._explained: int | None = None  # the training example last explained, ringed in red
        self.buttons = {name: w.Button(description=name.capitalize(), icon=icon,
                                       layout=w.Layout(width="90px"))
                        for name, icon in (("train", "play"), ("pause", "pause"), ("step", "step-forward"),
                                           ("reset", "undo"))}
        self.buttons["explain"] = w.Button(description="Explain one example", icon="search",
                                           layout=w.Layout(width="180px"))
        for name, button in self.buttons.items():
            button.add_class(f"al-{name}")
            button.on_click(getattr(self, f"_on_{name}"))
        self.readout = w.HTML().add_class("al-readout")
        self.message = w.HTML()
        self.boundary = w.Image(format="png", layout=w.Layout(width="330px")).add_class("al-boundary")
        self.curves = w.Image(format="png", layout=w.Layout(width="330px")).add_class("al-curves")
        self.network = w.Image(format="png", layout=w.Layout(width="330px")).add_class("al-network")
        self.explanation = w.Output().add_class("al-explanation")
        self._figures = {name: figure_class()(figsize=(4, 3.6), layout="constrained")
                         for name in ("boundary", "curves", "network")}
        self.widget = w.VBox([
            w.HBox([w.VBox([*self.controls.values(), self.speed]),
                    w.VBox([w.HBox([self.boundary, self.curves]), w.HBox([self.network, self.message])])]),
            w.HBox([*self.buttons.values()]), self.readout, self.explanation])
        self.refresh()

    # --- what the buttons do ----------------------------------------------------------
    def train(self) -> None:
        """Start training in the background (the buttons stay live); Pause stops it."""
        if self.running:
            return
        self._running.set()
        self.buttons["train"].disabled = True
        self._thread = threading.Thread(target=self._loop, name="autograd-lite-playground", daemon=True)
        self._thread.start()

    def pause(self, timeout: float = 5.0) -> None:
        """Stop training after the current batch (and wait for it)."""
        self._running.clear()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def step(self) -> None:
        """One batch (pauses training first), then redraw."""
        self.pause()
        self._guarded(self.trainer.one_batch)
        self.refresh()

    def reset(self) -> None:
        """Back to the seed's weights and a fresh history (pauses training first)."""
        self.pause()
        self.trainer.reset()
        self._explained = None
        self.explanation.clear_output()
        self.refresh()

    def explain(self) -> None:
        """Show the Stepper for one training example's loss below the buttons."""
        from IPython.display import HTML, display

        index, stepper = self.trainer.explain()
        self._explained = index
        self.refresh()
        x, target = self.trainer.train[index]
        self.explanation.clear_output()
        with self.explanation:
            display(HTML(f"<b>training example {index}</b> (ringed in red): x = ({x[0]:.3f}, {x[1]:.3f}), "
                         f"label {target}, loss {stepper.root.data:.4g}, the largest of the training set. "
                         "Press Next to step through its forward and backward pass."))
            display(HTML(stepper._repr_html_()))

    def close(self) -> None:
        """Stop training and remove the widget from the page."""
        self.pause()
        self.widget.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _on_train(self, _: Any) -> None:
        self.train()

    def _on_pause(self, _: Any) -> None:
        self.pause()
        self.refresh()

    def _on_step(self, _: Any) -> None:
        self.step()

    def _on_reset(self, _: Any) -> None:
        self.reset()

    def _on_explain(self, _: Any) -> None:
        self.explain()

    # --- training in the background ---------------------------------------------------
    def _loop(self) -> None:
        try:
            while self._running.is_set():
                started = time.perf_counter()
                if not self._guarded(self.trainer.one_batch):
                    self.refresh()  # stopped by itself: show where (Pause redraws on its own)
                    break
                if time.perf_counter() >= self._next_draw:
                    self.refresh(abandon=lambda: not self._running.is_set())
                if self.speed.value:  # slowed down so that the pictures can follow
                    time.sleep(max(0.0, started + 1 / self.speed.value - time.perf_counter()))
        except Exception as e:  # a thread's error is printed nowhere: show it in the widget
            self._running.clear()
            self.error = e
            self.message.value = (f"<span style='color:#b00'>training stopped by an error: "
                                  f"{html.escape(type(e).__name__)}: {html.escape(str(e)[:300])}</span>")
            raise

    def _guarded(self, action: Any) -> bool:
        """Run one batch; a diverging loss stops training with a message instead of a traceback."""
        try:
            action()
        except (OverflowError, FloatingPointError, ValueError) as e:
            self._running.clear()
            self.message.value = (f"<span style='color:#b00'>training stopped: {html.escape(str(e)[:160])}. "
                                  f"Try a smaller learning rate, then Reset.</span>")
            return False
        return True

    # --- controls and pictures --------------------------------------------------------
    def _changed(self, name: str) -> Any:
        def apply(change: dict[str, Any]) -> None:
            value = change["new"]
            if name == "hidden":
                try:
                    value = tuple(int(v) for v in str(value).replace(" ", "").split(",") if v)
                    if any(v < 1 for v in value):
                        raise ValueError
                except ValueError:
                    self.message.value = f"hidden layers: {change['new']!r} is not a list of sizes like 4,4"
                    return
            restart = self.running and name in ("lr", "batch_size")
            if not restart:
                self.pause()
            self.message.value = ""
            self.trainer.change(**{name: value})
            self._explained = None
            self.refresh()
        return apply

    def refresh(self, abandon: Any = None) -> None:
        """Redraw the readout, then the pictures, from the current model (under the model's lock).
        `abandon()` is asked between two pictures: the training thread stops drawing at a Pause."""
        start = time.perf_counter()
        t = self.trainer
        with t.lock:
            h = t.history
            numbers = ", ".join(f"{name} {value:.1%}" if "accuracy" in name else f"{name} {value:.4f}"
                                for name, value in t.current().items() if value is not None)
            self.readout.value = f"<code>epoch {h.epochs}, step {t.steps}: {numbers}" + (
                " (training)</code>" if self._running.is_set() else "</code>")  # first: it answers at once
            self.buttons["train"].disabled = self._running.is_set()
            for name, draw in (("boundary", self._draw_boundary), ("curves", self._draw_curves),
                               ("network", self._draw_network)):
                if abandon is not None and abandon():
                    return
                fig = self._figures[name]
                fig.clear()
                draw(fig.subplots())
                getattr(self, name).value = png(fig, dpi=80)
        took = time.perf_counter() - start
        self._next_draw = time.perf_counter() + max(REFRESH, took * (1 - BUDGET) / BUDGET)

    def _draw_boundary(self, ax: Any) -> None:
        t = self.trainer
        draw_decision_boundary(ax, t.model, t.train, resolution=60,
                               title=f"{t.settings.dataset}: the model's classes")
        ax.scatter([x[0] for x in t.test.X], [x[1] for x in t.test.X], facecolors="none",
                   edgecolors=[COLORS[c] for c in t.test.y], s=22, linewidths=1.2)
        if self._explained is not None:
            x1, x2 = t.train.X[self._explained]
            ax.scatter([x1], [x2], s=160, facecolors="none", edgecolors="#d62728", linewidths=2)

    def _draw_curves(self, ax: Any) -> None:
        draw_history([ax], self.trainer.history, validation="test")
        ax.set_title("loss (train, test)")

    def _draw_network(self, ax: Any) -> None:
        draw_network(ax, self.trainer.model, title="weights: blue +, red -")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _xor(n: int, noise: float, seed: int) -> datasets.Dataset:
    """n points around the four corners of the unit square, labelled x1 XOR x2 (noise: the spread)."""
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        a, b = i % 2, (i // 2) % 2
        X.append([a + rng.gauss(0, noise + 0.05), b + rng.gauss(0, noise + 0.05)])
        y.append(a ^ b)
    return datasets.Dataset(X, y, "xor")
