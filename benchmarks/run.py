"""Speed and memory of autograd_lite against micrograd and PyTorch: `make bench`.

    python benchmarks/run.py            # the full run (a few minutes), writes benchmarks/results.json
    python benchmarks/run.py --quick    # tiny sizes, one repetition: checks the harness in seconds
    python benchmarks/run.py --side-by-side   # only the tape's ratios to PyTorch and to NumPy by hand

Every workload runs for every implementation in the same process: warm-up steps
first, then several timed repetitions (consecutive steps, as in training: micrograd's
uncollected reference cycles pile up from step to step); the table gives the median
with min-max, and ratios to micrograd and to batched PyTorch. Python's garbage
collector with its default settings is what users run, so that is the headline;
each workload is then timed again with the collector disabled for everyone.

The tape's targets compare it with PyTorch batched and with the NumPy floor (the step
written by hand), so those three are also measured *side by side*: in each round every
one of them runs a few steps in turn, and the ratios are the medians of the rounds'
ratios -- on a shared machine, load that comes and goes then hits all three alike.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workloads as w  # noqa: E402  (this folder, when run as a script)

HERE = Path(__file__).resolve().parent


def measure(step: Callable[[], Any], warmup: int, reps: int, collector: bool, clean: bool = True
            ) -> dict[str, Any]:
    """Median, min and max seconds of `reps` consecutive calls after `warmup` calls."""
    if clean:
        gc.collect()  # start every measurement without the previous one's garbage
    for _ in range(warmup):
        step()
    if not collector:
        gc.disable()
    times = []
    try:
        for _ in range(reps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
        if clean:
            gc.collect()  # outside the timing: what piled up while the collector was off
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "reps": reps}


Row = dict[str, Any]


def run_timed(name: str, unit: str, per: float, make: Callable[[str], Callable[[], Any] | None],
              plan: dict[str, Any], results: list[Row], log: Callable[[str], None]) -> None:
    """Time one workload for every implementation, with the collector on and then off."""
    for impl in w.IMPLEMENTATIONS:
        try:
            step = make(impl)
        except Exception as error:  # noqa: BLE001 - report, e.g. the tape refusing a model
            step, setup_error = None, f"{type(error).__name__}: {error}"
        else:
            setup_error = None
        for collector in (True, False):
            row: dict[str, Any] = {"workload": name, "implementation": impl, "unit": unit,
                                   "gc": "on" if collector else "off"}
            warmup, reps = plan.get(impl, plan["default"])
            if step is None:
                row["error"] = setup_error or "n/a"
            else:
                try:
                    timing = measure(step, warmup, reps, collector, clean=plan["clean"])
                    row.update({k: (v / per if k != "reps" else v) for k, v in timing.items()})
                except RecursionError as error:
                    row["error"] = f"RecursionError: {error}"
            results.append(row)
            log(f"  {name:<22} {impl:<22} gc {row['gc']:<3} " +
                (f"{_number(row['median'])} {unit}" if "median" in row else row["error"][:60]))


def ratios(results: list[Row]) -> None:
    """Add 'faster than micrograd' (micrograd / this), 'vs PyTorch batched' (this / batched) and
    'vs NumPy by hand' (this / the floor)."""
    index = {(r["workload"], r["implementation"], r["gc"]): r for r in results}
    for r in results:
        if "median" not in r:
            continue
        mg = index.get((r["workload"], w.MICROGRAD, r["gc"]), {})
        batched = index.get((r["workload"], w.TORCH_BATCHED, r["gc"]), {})
        floor = index.get((r["workload"], w.NUMPY, r["gc"]), {})
        if "median" in mg:
            r["x_faster_than_micrograd"] = mg["median"] / r["median"]
        if "median" in batched:
            r["x_pytorch_batched"] = r["median"] / batched["median"]
        if "median" in floor:
            r["x_numpy"] = r["median"] / floor["median"]


SIDE_BY_SIDE = (w.TAPE, w.TAPE_VALUES, w.TORCH_BATCHED, w.NUMPY)


def side_by_side(name: str, make: Callable[[str], Callable[[], Any] | None], rounds: int, steps: int,
                 log: Callable[[str], None]) -> Row:
    """The tape, PyTorch batched and the NumPy floor in turn, `steps` steps each per round: the
    median time per step of each, and the medians of the rounds' ratios tape / PyTorch, tape / NumPy.

    Both wall time and the process's CPU time (time.process_time) are kept. On a loaded machine
    (more runnable processes than cores) wall time mostly measures waiting for a core, and more so
    for whatever runs longer, so the ratios are the CPU time's; on an idle machine they agree."""
    runs = {impl: make(impl) for impl in SIDE_BY_SIDE}
    wall: dict[str, list[float]] = {impl: [] for impl in SIDE_BY_SIDE}
    cpu: dict[str, list[float]] = {impl: [] for impl in SIDE_BY_SIDE}
    for step in runs.values():
        for _ in range(max(2, steps // 4)):  # warm-up (the tape records on its first run)
            step()  # type: ignore[misc]
    for _ in range(rounds):
        for impl, step in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(steps):
                step()  # type: ignore[misc]
            wall[impl].append((time.perf_counter() - start) / steps)
            cpu[impl].append((time.process_time() - start_cpu) / steps)
    row: Row = {"workload": name, "rounds": rounds, "steps_per_round": steps, "unit": "ms/step"}
    for impl in SIDE_BY_SIDE:
        row[f"cpu {impl}"] = 1e3 * statistics.median(cpu[impl])
        row[f"wall {impl}"] = 1e3 * statistics.median(wall[impl])
    pairs = (("tape_over_pytorch", w.TAPE, w.TORCH_BATCHED), ("tape_over_numpy", w.TAPE, w.NUMPY),
             ("pytorch_over_numpy", w.TORCH_BATCHED, w.NUMPY),
             ("tape_values_over_pytorch", w.TAPE_VALUES, w.TORCH_BATCHED))
    for times, kind in ((cpu, ""), (wall, "wall_")):
        for key, a, b in pairs:
            row[kind + key] = statistics.median(x / y for x, y in zip(times[a], times[b]))
    log(f"  {name:<12} CPU " + "  ".join(f"{impl} {row[f'cpu {impl}']:.3g} ms" for impl in SIDE_BY_SIDE) +
        f"  tape/PyTorch {row['tape_over_pytorch']:.2f}×  tape/NumPy {row['tape_over_numpy']:.2f}× "
        f"(wall time: {row['wall_tape_over_pytorch']:.2f}×, {row['wall_tape_over_numpy']:.2f}×)")
    return row


def side_table(rows: list[Row]) -> str:
    lines = ["| side by side, CPU time per step (median of rounds) | " + " | ".join(SIDE_BY_SIDE) +
             " | tape / PyTorch batched | tape / NumPy by hand | PyTorch / NumPy | tape, Values each step / "
             "PyTorch | the first three ratios, wall time |",
             "|---|" + "---|" * 9]
    for r in rows:
        lines.append(f"| {r['workload']} ({r['rounds']} rounds of {r['steps_per_round']} steps) | " +
                     " | ".join(f"{r[f'cpu {impl}']:.3g} ms" for impl in SIDE_BY_SIDE) +
                     f" | {r['tape_over_pytorch']:.2f}× | {r['tape_over_numpy']:.2f}× | "
                     f"{r['pytorch_over_numpy']:.2f}× | {r['tape_values_over_pytorch']:.2f}× | "
                     f"{r['wall_tape_over_pytorch']:.2f}×, "
                     f"{r['wall_tape_over_numpy']:.2f}×, {r['wall_pytorch_over_numpy']:.2f}× |")
    return "\n".join(lines)


def table(results: list[Row], memory: dict[str, Any]) -> str:
    """The results as a Markdown table (GC on | GC off), then the memory table."""
    lines = ["| workload | implementation | median, GC on (min–max) | × faster than micrograd | "
             "× PyTorch batched | × NumPy by hand | median, GC off (min–max) | "
             "× faster than micrograd, GC off |",
             "|---|---|---|---|---|---|---|---|"]
    index = {(r["workload"], r["implementation"], r["gc"]): r for r in results}
    for workload in dict.fromkeys(r["workload"] for r in results):
        for impl in w.IMPLEMENTATIONS:
            on, off = index[(workload, impl, "on")], index[(workload, impl, "off")]
            if "median" not in on and on.get("error") == "n/a":
                continue
            lines.append(f"| {workload} | {impl} | {_cell(on)} | {_ratio(on, 'x_faster_than_micrograd')} | "
                         f"{_ratio(on, 'x_pytorch_batched')} | {_ratio(on, 'x_numpy')} | {_cell(off)} | "
                         f"{_ratio(off, 'x_faster_than_micrograd')} |")
    kinds = list(w.NODE_KINDS)
    lines += ["", "| bytes per node (tracemalloc) | " + " | ".join(kinds) + " |",
              "|---|" + "---|" * len(kinds)]
    for impl, per_kind in memory.items():
        lines.append(f"| {impl} | " + " | ".join(f"{per_kind[k]:.0f}" for k in kinds) + " |")
    return "\n".join(lines)


def targets(results: list[Row], memory: dict[str, Any], chains: tuple[int, ...],
            training: dict[str, dict[str, float]], sides: list[Row]) -> list[Row]:
    """The issue's targets, checked on this run's numbers."""
    index = {(r["workload"], r["implementation"], r["gc"]): r for r in results}

    def get(workload: str, impl: str, gc_state: str, key: str) -> float | None:
        value = index.get((workload, impl, gc_state), {}).get(key)
        return None if value is None else float(value)

    short, long = (f"chain {n:,} nodes" for n in (chains[0], chains[-1]))
    per_node = [get(short, w.EAGER, "on", "median"), get(long, w.EAGER, "on", "median")]
    checks = [
        ("eager moons step ≥ 10× faster than micrograd (GC on)",
         get("moons step", w.EAGER, "on", "x_faster_than_micrograd"), ">=", 10.0),
        ("eager moons step ≥ 2× faster than micrograd (GC off)",
         get("moons step", w.EAGER, "off", "x_faster_than_micrograd"), ">=", 2.0),
        ("eager: bytes per binary-op node (add) ≤ 300", memory.get(w.EAGER, {}).get("add"), "<=", 300.0),
        ("eager: bytes per binary-op node (mul) ≤ 300", memory.get(w.EAGER, {}).get("mul"), "<=", 300.0),
        (f"eager: per-node cost of the {long} within 2× of the {short}",
         per_node[1] / per_node[0] if None not in per_node else None, "<=", 2.0),  # type: ignore[operator]
    ]
    side = {r["workload"]: r for r in sides}
    for workload, limit in (("moons step", 1.0), ("digits step", 1.5)):
        checks.append((f"tape {workload} ≤ {limit:g}× PyTorch batched (side by side, CPU time)",
                       side.get(workload, {}).get("tape_over_pytorch"), "<=", limit))
        checks.append((f"tape {workload} within 3× of NumPy by hand (side by side, CPU time)",
                       side.get(workload, {}).get("tape_over_numpy"), "<=", 3.0))
    for backend, limit in (("tape", 5.0), ("eager", 120.0)):
        run = training.get(backend)
        checks.append((f"{backend}: digits MLP(64,[16,16,10]) held-out accuracy ≥ 95% ...",
                       run and run["accuracy"], ">=", 0.95))
        checks.append((f"... in ≤ {limit:g} s of training ({backend})", run and run["seconds"], "<=", limit))
    return [{"target": text, "value": value, "met": value is not None and
             (value >= bound if op == ">=" else value <= bound)} for text, value, op, bound in checks]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition: checks the harness")
    parser.add_argument("--json", default=str(HERE / "results.json"), help="where to write the results")
    parser.add_argument("--quiet", action="store_true", help="print only the table")
    parser.add_argument("--side-by-side", action="store_true",
                        help="only the tape, PyTorch batched and NumPy by hand, side by side (a minute)")
    args = parser.parse_args(argv)
    log = (lambda text: None) if args.quiet else (lambda text: print(text, flush=True))
    sizes = w.QUICK if args.quick else w.Sizes()
    try:
        import torch
        torch.set_num_threads(1)  # tiny tensors: threads only add noise (the machine's cores are shared)
    except ImportError:
        torch = None
    slow = 1 if args.quick else 5  # repetitions of the slow implementations
    clean = not args.quick  # a full collection before each measurement (slow with torch loaded)
    plans: dict[str, dict[str, Any]] = {  # (warm-up, repetitions)
        "chain": {"default": (0 if args.quick else 1, 1 if args.quick else 15), "clean": clean},
        "long chain": {"default": (0, 1 if args.quick else 2), "clean": clean},
        "step": {"default": (1 if args.quick else 2, slow), "clean": clean,
                 w.TAPE: (1, 1 if args.quick else 50), w.TAPE_VALUES: (1, 1 if args.quick else 50),
                 w.TORCH_BATCHED: (1, 1 if args.quick else 200),
                 w.NUMPY: (1, 1 if args.quick else 200)},
    }
    rounds, steps = (2, 1) if args.quick else (40, 20)
    if args.side_by_side:
        log("side by side: the tape, PyTorch batched and NumPy by hand in turn")
        sides = [side_by_side(name, lambda impl, f=f: f(impl, sizes), rounds, steps, log)
                 for name, f in (("moons step", w.moons_step), ("digits step", w.digits_step))]
        print(side_table(sides))
        return {"side_by_side": sides}
    results: list[Row] = []
    started = time.perf_counter()
    for i, nodes in enumerate(sizes.chains):
        log(f"chain of {nodes:,} nodes: forward + backward, time per node")
        run_timed(f"chain {nodes:,} nodes", "ns/node", 1e-9 * nodes, lambda impl, n=nodes: w.chain(impl, n),
                  plans["long chain" if i else "chain"], results, log)
    log("micrograd's moons demo step")
    run_timed("moons step", "ms/step", 1e-3, lambda impl: w.moons_step(impl, sizes), plans["step"],
              results, log)
    log("digits step")
    run_timed("digits step", "ms/step", 1e-3, lambda impl: w.digits_step(impl, sizes), plans["step"],
              results, log)
    ratios(results)
    log("side by side: the tape, PyTorch batched and NumPy by hand in turn")
    sides = [side_by_side(name, lambda impl, f=f: f(impl, sizes), rounds, steps, log)
             for name, f in (("moons step", w.moons_step), ("digits step", w.digits_step))]
    training = {}
    for backend in ("tape", "eager"):  # the training targets: 20 epochs reach ~97%
        log(f"digits training, {backend}: MLP(64,[16,16,10]), Adam, batches of 64, to held-out accuracy")
        training[backend] = w.digits_training(backend, *((1, 100) if args.quick else (20, None)))
        log(f"  {training[backend]['seconds']:.1f} s, held-out accuracy {training[backend]['accuracy']:.1%}")
    log("bytes per node")
    memory = {impl: m for impl in w.IMPLEMENTATIONS
              if (m := w.bytes_per_node(impl, 200 if args.quick else 20_000)) is not None}
    checked = targets(results, memory, sizes.chains, training, sides)
    report = {
        "command": "python benchmarks/run.py" + (" --quick" if args.quick else ""),
        "quick": args.quick,
        "sizes": asdict(sizes),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "numpy": _version("numpy"), "torch": _version("torch"),
                    "micrograd": _version("micrograd"),
                    "torch_threads": torch.get_num_threads() if torch else None,
                    "gc_threshold": gc.get_threshold()},
        "seconds": time.perf_counter() - started,
        "results": results,
        "bytes_per_node": memory,
        "side_by_side": sides,
        "digits_training": training,
        "targets": checked,
    }
    print()
    print(table(results, memory))
    print()
    print(side_table(sides))
    print()
    if args.quick:
        print("(--quick: sizes too small for the numbers to mean anything; this checks the harness)")
    for t in checked:
        value = "n/a" if t["value"] is None else f"{t['value']:.3g}"
        print(f"{'✓' if t['met'] else '✗'} {t['target']}: {value}")
    Path(args.json).write_text(json.dumps(report, indent=1))
    log(f"\nwrote {args.json} ({report['seconds']:.0f} s)")
    return report


def _number(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:,.0f}"


def _cell(r: dict[str, Any]) -> str:
    if "median" not in r:
        return "—" if r.get("error") == "n/a" else r["error"].split(":")[0]
    return f"{_number(r['median'])} {r['unit']} ({_number(r['min'])}–{_number(r['max'])})"


def _ratio(r: dict[str, Any], key: str) -> str:
    return f"{r[key]:.3g}×" if key in r else "—"


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
