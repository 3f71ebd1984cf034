"""The command line: a small training run writes everything; bad arguments get one line and exit code 2."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

import pytest

from autograd_lite import cli
from autograd_lite.data import xor
from autograd_lite.nn import MLP
from autograd_lite.train import predict


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_xor_writes_model_curves_boundary_and_graph(tmp_path, capsys) -> None:
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "train", "xor", "--out", str(out_dir), "--no-progress")
    assert code == 0, err
    assert "model: MLP(2 -> 2 -> 1), sigmoid, 9 parameters; binary_cross_entropy loss" in out
    assert "train accuracy 100.0% (4/4)" in out
    files = {p.name for p in out_dir.iterdir()}
    assert {"model.json", "history.json", "loss.png", "decision_boundary.png"} <= files
    model = MLP.load(out_dir / "model.json")
    errors = [abs(p - t) for p, t in zip(predict(model, xor().X), xor().y)]
    assert max(errors) < 0.05  # the saved model is the trained one: seed 002's network solved
    history = json.loads((out_dir / "history.json").read_text())
    assert len(history["loss"]) == 1000 and history["loss"][-1] < history["loss"][0]
    for png in ("loss.png", "decision_boundary.png"):
        assert (out_dir / png).read_bytes().startswith(b"\x89PNG")


def test_train_moons_small_run_with_graph(tmp_path, capsys) -> None:
    pytest.importorskip("autograd_lite.viz")
    code, out, err = run(capsys, "train", "moons", "--samples", "30", "--epochs", "3", "--hidden", "4",
                         "--optimizer", "adam", "--out", str(tmp_path), "--no-progress", "--backend", "eager")
    assert code == 0, err
    assert "moons: 30 examples (24 train / 6 test)" in out
    assert "Adam, lr 0.01 decaying linearly to 0.001; 3 epochs, batches of 16; backend eager" in out
    assert "| test accuracy" in out
    svg = (tmp_path / "graph.svg").read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "loss" in svg
    assert MLP.load(tmp_path / "model.json").sizes == [2, 4, 1]


def test_progress_bar_goes_to_stderr(tmp_path, capsys) -> None:
    code, _, err = run(capsys, "train", "xor", "--epochs", "5", "--out", str(tmp_path))
    assert code == 0 and "5/5" in err and "loss=" in err


def test_a_failed_drawing_is_a_note_not_a_failure(tmp_path, capsys, monkeypatch) -> None:
    viz = pytest.importorskip("autograd_lite.viz")

    def broken(*args, **kwargs):
        raise RuntimeError("no dot here\nsecond line")

    monkeypatch.setattr(viz, "draw_dot", broken)
    code, out, _ = run(capsys, "train", "xor", "--epochs", "2", "--out", str(tmp_path), "--no-progress")
    assert code == 0
    assert "note: skipped graph.svg (drawing the graph failed: no dot here)" in out
    assert (tmp_path / "model.json").exists() and not (tmp_path / "graph.svg").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["train", "moon"], "argument dataset: invalid choice: 'moon'"),
    (["train", "moons", "--lr", "abc"], "argument --lr: 'abc' is not a number"),
    (["train", "moons", "--lr", "-1"], "argument --lr: '-1' must be greater than 0"),
    (["train", "moons", "--epochs", "0"], "argument --epochs: '0' must be greater than 0"),
    (["train", "moons", "--epochs", "2.5"], "argument --epochs: '2.5' is not a whole number"),
    (["train", "moons", "--hidden", "16,x"], "argument --hidden: '16,x' is not a list of layer sizes"),
    (["train", "moons", "--test-fraction", "1.5"], "'1.5' must be between 0 and 1"),
    (["train", "moons", "--activation", "softmax"], "argument --activation: invalid choice: 'softmax'"),
    (["train", "xor", "--samples", "10"], "--samples does not apply to xor"),
    (["train", "moons", "--samples", "5"], "--samples 5: moons needs at least 10 points"),
    (["train", "spirals", "--loss", "cross_entropy", "--epochs", "x"], "argument --epochs"),
    (["train", "moons", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "moons", "--test-fraction", "0.999", "--samples", "10"], "leave 0 for training and 10 for"),
    (["train", "moons", "--test-fraction", "0.01", "--samples", "10"], "leave 10 for training and 0 for"),
    (["train", "moons", "--out", ""], "argument --out: an empty path is not a directory"),
    (["train", "moons", "--samples", "10000000000"], "at most 1,000,000 points"),
    (["train", "moons", "--hidden", "2000000"],
     "MLP(2 -> 2000000 -> 1) has 8,000,001 parameters; training it with batches of 16 needs about 6.9 GiB"),
    (["train", "digits", "--hidden", "9000,9000", "--batch-size", "1"], "or pass --force"),
    ([], "the following arguments are required: command"),
])
def test_bad_arguments_get_one_line_and_exit_code_2(args: list[str], message: str, capsys) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err and out == ""


def test_a_multiclass_dataset_needs_cross_entropy(capsys) -> None:
    code, _, err = run(capsys, "train", "digits", "--loss", "hinge")
    assert code == 2
    assert err.strip() == ("autograd-lite train: error: digits has 10 classes; --loss hinge is for two: "
                           "use --loss cross_entropy (see autograd-lite train --help)")


def test_an_unwritable_output_directory_is_a_one_line_error_before_training(tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out_dir = str(blocker / "out")
    code, out, err = run(capsys, "train", "xor", "--epochs", "2", "--out", out_dir, "--no-progress")
    assert code == 1
    assert err.startswith(f"autograd-lite: error: cannot write to the output directory {out_dir}: ")
    assert err.count("\n") == 1
    assert out == ""  # checked first: no training run is lost to a bad --out


def test_a_diverged_run_still_writes_its_history(tmp_path, capsys) -> None:
    code, out, err = run(capsys, "train", "moons", "--samples", "30", "--epochs", "3", "--hidden", "4",
                         "--lr", "1e200", "--out", str(tmp_path), "--no-progress", "--backend", "eager")
    assert code == 1 and "training diverged in epoch 1" in err
    assert f"wrote {tmp_path / 'history.json'} (0 epochs finished before training diverged)" in out
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["loss"] == [] and not (tmp_path / "model.json").exists()


def test_help_and_version(capsys) -> None:
    code, out, _ = run(capsys, "train", "--help")
    assert code == 0 and "--hidden" in out
    assert "  moons    --hidden 16,16 --activation relu --loss hinge --optimizer sgd --lr 0.5" in out
    assert "exit codes: 0 done, 1 failed (e.g. training diverged), 2 bad arguments, 130 interrupted" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("autograd-lite ")


def test_python_dash_m_runs_the_same_command_without_a_traceback() -> None:
    result = subprocess.run([sys.executable, "-m", "autograd_lite", "train", "moons", "--lr", "fast"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == ("autograd-lite train: error: argument --lr: 'fast' is not a number "
                             "(see autograd-lite train --help)\n")


def test_force_trains_a_network_bigger_than_the_memory_limit(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(cli, "MAX_TRAINING_BYTES", 1000)  # so that a tiny network is "too big"
    args = ["train", "xor", "--epochs", "1", "--out", str(tmp_path), "--no-progress"]
    code, _, err = run(capsys, *args)
    assert code == 2 and "MLP(2 -> 2 -> 1) has 9 parameters; training it with batches of 4 needs" in err
    code, _, err = run(capsys, *args, "--force")
    assert code == 0, err


def test_ctrl_c_writes_what_there_is_says_so_and_exits_130(tmp_path) -> None:
    """A real SIGINT, sent to a real process, once training has started."""
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler)\n"  # even if the
            "from autograd_lite.cli import main; sys.exit(main(sys.argv[1:]))")  # parent ignores SIGINT
    args = ["train", "moons", "--epochs", "100000", "--backend", "eager", "--out", str(tmp_path)]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    timer = threading.Timer(120, proc.kill)  # never hang the suite if the child never gets going
    timer.start()
    try:
        assert proc.stderr is not None
        seen = b""
        while b"loss=" not in seen:  # the progress bar after the first batch: training has started
            chunk = os.read(proc.stderr.fileno(), 4096)
            assert chunk, seen
            seen += chunk
        proc.send_signal(signal.SIGINT)
        out_bytes, err_bytes = proc.communicate(timeout=120)
    finally:
        timer.cancel()
        proc.kill()
    out, err = out_bytes.decode(), (seen + err_bytes).decode()
    assert proc.returncode == 130, err
    assert "interrupted after " in out and "writing what there is" in out
    assert err.strip().endswith("finished epochs")  # the last line says why the exit code is 130
    assert "autograd-lite: interrupted (exit code 130)" in err and "Traceback" not in err
    assert {"model.json", "history.json", "loss.png"} <= {p.name for p in tmp_path.iterdir()}
    assert MLP.load(tmp_path / "model.json").sizes == [2, 16, 16, 1]


def test_ctrl_c_in_a_callback_is_the_same_path(tmp_path, capsys, monkeypatch) -> None:
    """fit's KeyboardInterrupt handling, reached in-process: an interrupt in the second epoch."""
    real_fit = cli.fit

    def fit(*args, **kwargs):
        def interrupt(epoch: int, history) -> None:
            if epoch == 1:
                raise KeyboardInterrupt
        return real_fit(*args, **kwargs, callback=interrupt)

    monkeypatch.setattr(cli, "fit", fit)
    code, out, err = run(capsys, "train", "xor", "--out", str(tmp_path), "--no-progress")
    assert code == 130
    assert "interrupted after 1 epochs; writing what there is" in out
    assert "autograd-lite: interrupted (exit code 130); the outputs are those of 1 finished epochs" in err
    assert len(json.loads((tmp_path / "history.json").read_text())["loss"]) == 1


def test_graph_svg_draws_an_example_the_model_still_learns_from(tmp_path, capsys) -> None:
    pytest.importorskip("autograd_lite.viz")
    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot")
    code, _, _ = run(capsys, "train", "moons", "--epochs", "2", "--hidden", "4", "--loss", "hinge",
                     "--out", str(tmp_path), "--no-progress")
    svg = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    why = re.search(r"training example (\d+) \(label -?\d\): ([a-z ,]+); loss ([\d.]+)", svg)
    assert code == 0 and why is not None and float(why.group(3)) > 0
    assert why.group(2) in ("misclassified, the one with the largest loss",
                            "classified right but inside the margin")
    assert re.search(r'fill="#(?!ffffff)[0-9a-f]{6}"', svg)  # grads are not all 0: something is coloured
