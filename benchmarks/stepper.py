"""How long stepping micrograd's demo network takes: building a Stepper, and one step's picture.

    python benchmarks/stepper.py            # MLP(2, [16, 16, 1]), one example's hinge loss
    python benchmarks/stepper.py --quick    # MLP(2, [4, 4, 1]): checks the script

For autograd_lite's MLP (one w·x+b node per neuron) and micrograd's own (a * and a + per
weight, over 1,000 nodes), whole and one box per neuron or layer: the Stepper is built once
(the backward pass recorded), and a step's picture is built (DOT source) and rendered (SVG,
Graphviz's `dot`) only when asked for. Medians of a few runs; the machine may be loaded.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd_lite.engine import Value  # noqa: E402
from autograd_lite.losses import hinge  # noqa: E402
from autograd_lite.nn import MLP  # noqa: E402
from autograd_lite.stepper import Stepper  # noqa: E402


def median_seconds(work: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def losses(hidden: list[int]) -> dict[str, tuple[Any, Any]]:
    """One example's loss, for autograd_lite's MLP and (if installed) micrograd's."""
    ours = MLP(2, [*hidden, 1], seed=0)
    found = {"autograd_lite": (hinge(ours([Value(0.5, label="x1"), Value(-1.0, label="x2")]), 1), ours)}
    try:
        import micrograd.nn as mnn
    except ImportError:
        return found
    random.seed(0)
    theirs = mnn.MLP(2, [*hidden, 1])
    found["micrograd"] = ((1 + -1 * theirs([0.5, -1.0])).relu(), theirs)
    return found


def measure(loss: Any, model: Any, collapse: str | None, reps: int, render: bool) -> dict[str, Any]:
    """Build the Stepper, then time building it again, one step's DOT source and its SVG."""
    stepper = Stepper(loss, params=model, collapse=collapse)
    middle = len(stepper) // 2
    row: dict[str, Any] = {"collapse": collapse or "whole", "nodes": len(stepper.order),
                           "steps": len(stepper)}
    row["build s"] = median_seconds(lambda: Stepper(loss, params=model, collapse=collapse), reps)
    row["picture s"] = median_seconds(lambda: stepper.draw(middle).source, reps)
    if render:
        drawing = stepper.draw(middle)
        row["render s"] = median_seconds(lambda: drawing.pipe(format="svg"), max(1, reps // 2))
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small network, one repetition")
    args = parser.parse_args(argv)
    hidden, reps = ([4, 4], 1) if args.quick else ([16, 16], 5)
    render = shutil.which("dot") is not None
    rows = []
    for engine, (loss, model) in losses(hidden).items():
        for collapse in (None, "neuron", "layer"):
            row = {"engine": engine, **measure(loss, model, collapse, reps, render)}
            rows.append(row)
            print("  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
                  flush=True)
    return rows


if __name__ == "__main__":
    main()
