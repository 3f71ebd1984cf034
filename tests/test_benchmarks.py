"""The benchmark harness runs (`make bench`); a smoke test of its quick mode, no timings checked."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def test_quick_benchmark_runs_every_workload_and_writes_json(tmp_path, capsys) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("micrograd")
    spec = importlib.util.spec_from_file_location("benchmarks_run", RUN)
    assert spec and spec.loader
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    out = tmp_path / "results.json"
    report = run.main(["--quick", "--quiet", "--json", str(out)])
    assert json.loads(out.read_text())["quick"] is True
    rows = report["results"]
    workloads = {r["workload"] for r in rows}
    assert workloads == {"chain 100 nodes", "chain 1,000 nodes", "moons step", "digits step"}
    timed = {(r["workload"], r["implementation"]) for r in rows if "median" in r and r["gc"] == "on"}
    for workload in ("moons step", "digits step"):  # all five implementations ran the training steps
        assert {impl for w, impl in timed if w == workload} == set(run.w.IMPLEMENTATIONS)
    moons = {r["implementation"]: r for r in rows if r["workload"] == "moons step" and r["gc"] == "off"}
    assert moons["micrograd 0.1.0"]["x_faster_than_micrograd"] == pytest.approx(1.0)
    assert moons["PyTorch batched"]["x_pytorch_batched"] == pytest.approx(1.0)
    assert all(r["min"] <= r["median"] <= r["max"] for r in rows if "median" in r)
    assert set(report["bytes_per_node"]) == {"autograd_lite eager", "micrograd 0.1.0"}
    assert len(report["targets"]) == 13
    for backend in ("tape", "eager"):  # the training targets ran both backends on real digits
        run_ = report["digits_training"][backend]
        assert run_["epochs"] == 1 and 0.0 <= run_["accuracy"] <= 1.0 and run_["seconds"] > 0
    assert set(report["bytes_per_node"]["micrograd 0.1.0"]) == set(run.w.NODE_KINDS)
    table = capsys.readouterr().out
    assert "| moons step | autograd_lite tape |" in table and "bytes per node" in table


@pytest.mark.parametrize("loss", ["hinge", "mse"])
def test_the_numpy_floor_takes_the_same_steps_as_pytorch(loss: str) -> None:
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("benchmarks_run", RUN)
    assert spec and spec.loader
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    w = run.w
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    y = rng.choice([-1, 1], 12) if loss == "hinge" else np.eye(2, dtype=int)[rng.integers(0, 2, 12)]
    weights = w.initial_weights([3, 5, 4, 1 if loss == "hinge" else 2], seed=3)
    floor, torch_step = (w.MAKERS[impl](weights, [(X, y)], loss, lambda: 0.3)[0]
                         for impl in (w.NUMPY, w.TORCH_BATCHED))
    for _ in range(3):  # the losses of later steps depend on the earlier updates, i.e. on the gradients
        assert floor() == pytest.approx(torch_step(), rel=1e-12)
