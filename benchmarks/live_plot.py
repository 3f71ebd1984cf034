"""What `fit(..., live=True)` costs: the CLI's default moons run with and without the live figure.

    python benchmarks/live_plot.py            # 5 alternating runs of each, medians and the ratio
    python benchmarks/live_plot.py 800        # the same recipe for 800 epochs: redraws during training

Jupyter is stood in for by a display handle that keeps the PNGs (the figure is drawn and
encoded exactly as in a notebook, only not sent to a browser). Reports wall and CPU time of
the whole fit (a loaded machine makes wall time mostly waiting), and what the pictures took.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd_lite import data, live, train  # noqa: E402
from autograd_lite.cli import RECIPES  # noqa: E402
from autograd_lite.nn import MLP  # noqa: E402
from autograd_lite.optim import SGD, LinearLR  # noqa: E402


class Handle:
    def __init__(self) -> None:
        self.pictures = 0

    def show(self, placeholder: Any) -> Handle:  # a line of text until the first picture
        return self

    def update(self, picture: Any) -> None:
        self.pictures += 1


CLOSING: list[float] = []  # seconds the last picture took, per run
DRAWING: list[float] = []  # seconds all pictures took (LivePlot.drawing), per run


def _timed_close(close: Any) -> Any:
    def timed(self: live.LivePlot) -> None:
        start = time.perf_counter()
        close(self)
        CLOSING.append(time.perf_counter() - start)
        DRAWING.append(self.drawing)
    return timed


def run(live_plot: bool, epochs: int | None = None) -> dict[str, float]:
    r = RECIPES["moons"]
    r = r if epochs is None else replace(r, epochs=epochs)
    train_set, test = data.train_test_split(data.moons(r.samples or 200, seed=0), 0.2, seed=0)
    model = MLP(2, [*r.hidden, 1], r.activation, init=r.init, seed=0)
    opt = SGD(model.parameters(), lr=r.lr, weight_decay=r.weight_decay)
    handle = Handle()
    live._display = handle.show
    wall, cpu = time.perf_counter(), time.process_time()
    train.fit(model, train_set, loss=r.loss, optimizer=opt, scheduler=LinearLR(opt, 1.0, 0.1, r.epochs),
              epochs=r.epochs, batch_size=r.batch_size, validation=test, progress=False, live=live_plot)
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "pictures": handle.pictures,
            "last": CLOSING.pop() if live_plot else 0.0, "drawing": DRAWING.pop() if live_plot else 0.0}


def main(argv: list[str]) -> None:
    epochs = int(argv[0]) if argv else None
    train.in_jupyter = lambda: True  # type: ignore[assignment]
    live.LivePlot.close = _timed_close(live.LivePlot.close)  # type: ignore[method-assign]
    run(False), run(True)  # warm-up: imports, the tapes' first recordings
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for _ in range(5):
        for live_plot in (False, True):
            runs[live_plot].append(run(live_plot, epochs))

    def median(live_plot: bool, key: str) -> float:
        return statistics.median(r[key] for r in runs[live_plot])

    recipe = "the CLI's recipe" + ("" if epochs is None else f" for {epochs} epochs")
    print(f"moons, {recipe}; medians of 5 alternating runs:")
    for key in ("wall", "cpu"):
        off, on = median(False, key), median(True, key)
        print(f"  {key:>4} time: {off:.3f} s without the live figure, {on:.3f} s with it "
              f"(ratio {on / off:.2f})")
    print(f"  {median(True, 'pictures'):.0f} pictures; drawing took {median(True, 'drawing'):.3f} s in all, "
          f"the last picture {median(True, 'last'):.3f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
