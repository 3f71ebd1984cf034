"""The command line: `autograd-lite train moons` (also `python -m autograd_lite train moons`).

Trains an MLP on one of the datasets with a progress bar, prints the final train
and test accuracy, and writes to --out: the model (model.json), the loss and
accuracy curves (loss.png, history.json), the decision boundary (2-D data) and
the computation graph of one example's loss (graph.svg, when drawing is available).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

from autograd_lite import data as datasets
from autograd_lite.backend import BACKENDS
from autograd_lite.engine import Value
from autograd_lite.losses import CORRECT, LOSSES
from autograd_lite.modes import no_grad
from autograd_lite.nn import ACTIVATIONS, MLP
from autograd_lite.optim import OPTIMIZERS, LinearLR
from autograd_lite.plots import plot_decision_boundary, plot_history, plot_images
from autograd_lite.train import DivergenceError, History, evaluate, fit

DATASETS = ("moons", "circles", "spirals", "xor", "digits")
CLASSES = {"digits": 10}  # the others have 2
INTERRUPTED = 130  # the exit code of a run stopped with Ctrl-C (128 + SIGINT), as shells use

# Training memory, measured on eager MLPs (tracemalloc): each parameter is a Value (~130 bytes) with
# optimizer state (~70), and each example of a batch records ~45 bytes of graph per parameter.
BYTES_PER_PARAMETER = 200
BYTES_PER_PARAMETER_PER_EXAMPLE = 45
MAX_TRAINING_BYTES = 4 * 2**30  # above this, --force is needed
MAX_SAMPLES = 1_000_000  # eager training runs ~1,000 examples a second: more would take hours an epoch


@dataclass(frozen=True)
class Recipe:
    """Default settings for one dataset (every one can be changed on the command line)."""

    hidden: tuple[int, ...] = (16, 16)
    activation: str = "relu"
    loss: str = "hinge"
    optimizer: str = "sgd"
    lr: float = 0.5
    epochs: int = 50
    batch_size: int | None = 16
    samples: int | None = 200  # None: the dataset has a fixed size
    init: str = "uniform"
    weight_decay: float = 1e-4
    momentum: float = 0.0  # SGD only


# Chosen to reach ~100% training accuracy on 2 cores in well under a minute (digits: a few minutes).
RECIPES = {
    "moons": Recipe(),  # micrograd's demo network and loss, with mini-batches
    "circles": Recipe(),
    "spirals": Recipe(activation="tanh", optimizer="adam", lr=0.02, epochs=60, weight_decay=0.0),
    "xor": Recipe(hidden=(2,), activation="sigmoid", loss="binary_cross_entropy", lr=1.0, epochs=1000,
                  batch_size=None, samples=None, weight_decay=0.0, momentum=0.9),  # seed 002's network
    "digits": Recipe(loss="cross_entropy", optimizer="adam", lr=0.01, epochs=10, batch_size=16, samples=None,
                     init="fan_in", weight_decay=0.0),  # seed 004's 16-16-10 network, on 8x8 images
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit code 2, no usage dump
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autograd-lite", description="Train tiny neural networks with autograd_lite.")
    from autograd_lite import __version__

    parser.add_argument("--version", action="version", version=f"autograd-lite {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    train = commands.add_parser(
        "train", help="train an MLP on a dataset", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train an MLP on a dataset with a progress bar, print the final train and test\n"
                    "accuracy, and write the model (JSON), the loss curves, the decision boundary and\n"
                    "one example's computation graph to --out.",
        epilog="defaults per dataset (every one can be changed):\n" + "\n".join(
            f"  {name:<8} {_describe_recipe(r)}" for name, r in RECIPES.items())
        + f"\n\nexit codes: 0 done, 1 failed (e.g. training diverged), 2 bad arguments, {INTERRUPTED} "
          "interrupted\n(Ctrl-C: the outputs of the epochs finished so far are written first)")
    train.add_argument("dataset", choices=DATASETS, help="what to learn")
    train.add_argument("--hidden", type=_sizes, help="hidden layer sizes, e.g. 16,16 (none: no hidden layer)")
    train.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "linear"],
                       help="activation of the hidden layers")
    train.add_argument("--loss", choices=list(LOSSES), help="loss function")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS), help="sgd, adam or adamw")
    train.add_argument("--lr", type=_positive(float), help="learning rate (it decays linearly to a tenth)")
    train.add_argument("--epochs", type=_positive(int), help="passes over the training data")
    train.add_argument("--batch-size", type=_positive(int), help="examples per update (default per dataset)")
    train.add_argument("--samples", type=_positive(int), help="points to generate (moons, circles, spirals)")
    train.add_argument("--test-fraction", type=_fraction, default=0.2, help="share held out for tests (0.2)")
    train.add_argument("--seed", type=int, default=0, help="seed for data, weights and batches (0)")
    train.add_argument("--out", type=_directory, help="output directory (default: autograd-lite-DATASET)")
    train.add_argument("--backend", choices=list(BACKENDS), default="auto",
                       help="how batches are computed: eager Values, the batched NumPy tape, or auto "
                            "(the tape when it can replay the model, else eager)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--force", action="store_true",
                       help=f"train a network even if it needs more than {MAX_TRAINING_BYTES / 2**30:g} GiB")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a bad argument (already reported in one line)
        return int(e.code or 0)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _note  # warnings as one-line notes, not file:line dumps
            return train_command(args)
    except _UsageError as e:
        print(f"autograd-lite train: error: {e} (see autograd-lite train --help)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before training started, or while writing: nothing (more) to write
        print("autograd-lite: interrupted", file=sys.stderr)
        return INTERRUPTED
    except (ImportError, OSError, DivergenceError, ValueError) as e:
        print(f"autograd-lite: error: {e}", file=sys.stderr)
        return 1


class _UsageError(Exception):
    """Arguments that parse but do not fit together (exit code 2, like argparse's errors)."""


def train_command(args: argparse.Namespace) -> int:
    name = args.dataset
    recipe = _recipe(args)
    if recipe.loss != "cross_entropy" and CLASSES.get(name, 2) > 2:
        raise _UsageError(f"{name} has {CLASSES[name]} classes; --loss {recipe.loss} is for two: "
                          "use --loss cross_entropy")
    out = args.out if args.out is not None else Path(f"autograd-lite-{name}")
    _check_writable(out)  # before training: never lose a run to a bad --out
    data = _load(name, recipe, args.seed)
    train, test = _split(data, args)
    outputs = data.num_classes if recipe.loss == "cross_entropy" else 1
    last = "sigmoid" if recipe.loss == "binary_cross_entropy" else "linear"
    _check_memory([data.num_features, *recipe.hidden, outputs], recipe.batch_size or len(train), args.force)
    model = MLP(data.num_features, [*recipe.hidden, outputs], recipe.activation, last, init=recipe.init,
                seed=args.seed)
    extra = {"momentum": recipe.momentum} if recipe.optimizer == "sgd" else {}
    make_optimizer = OPTIMIZERS[recipe.optimizer]
    optimizer = make_optimizer(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay, **extra)
    scheduler = LinearLR(optimizer, 1.0, 0.1, recipe.epochs)  # micrograd's linear decay, to a tenth
    split = "all 4 used for training" if name == "xor" else f"{len(train)} train / {len(test)} test"
    print(f"{name}: {len(data)} examples ({split})")
    print(f"model: MLP({' -> '.join(map(str, model.sizes))}), {recipe.activation}, "
          f"{model.num_parameters()} parameters; "
          f"{recipe.loss} loss; {_describe_optimizer(recipe)}; {recipe.epochs} epochs, "
          f"{'full batch' if recipe.batch_size is None else f'batches of {recipe.batch_size}'}; "
          f"backend {args.backend}")

    try:
        history = fit(model, train, loss=recipe.loss, optimizer=optimizer, scheduler=scheduler,
                      epochs=recipe.epochs, batch_size=recipe.batch_size, seed=args.seed,
                      progress=not args.no_progress, validation=None if name == "xor" else test,
                      backend=args.backend)
    except DivergenceError as e:  # the curves up to the blow-up show what went wrong
        path = _write_history(out / "history.json", e.history)
        print(f"wrote {path} ({e.history.epochs} epochs finished before training diverged)")
        raise
    if history.interrupted:
        print(f"interrupted after {history.epochs} epochs; writing what there is")
    try:
        print(_accuracies(model, train, None if name == "xor" else test, recipe.loss, history))
    except KeyboardInterrupt:  # a Ctrl-C while evaluating: the outputs matter more than the numbers
        history.interrupted = True
        print("interrupted while evaluating; writing what there is")
    written = _write_outputs(out, model, history, train, test, recipe.loss)
    print(f"wrote {', '.join(str(p) for p in written)}")
    if history.interrupted:
        print(f"autograd-lite: interrupted (exit code {INTERRUPTED}); the outputs are those of "
              f"{history.epochs} finished epochs", file=sys.stderr)
        return INTERRUPTED
    return 0


def _split(data: datasets.Dataset, args: argparse.Namespace) -> tuple[datasets.Dataset, datasets.Dataset]:
    if args.dataset == "xor":  # 4 points: train on all of them, and "test" on them too
        return data, data
    try:
        return datasets.train_test_split(data, args.test_fraction, seed=args.seed)
    except ValueError as e:  # e.g. --test-fraction 0.999 --samples 10: no example left to train on
        raise _UsageError(f"--test-fraction {args.test_fraction:g}: {e}") from None


def _check_memory(sizes: list[int], batch: int, force: bool) -> None:
    """Refuse (unless --force) a network whose training would need more memory than most machines have."""
    parameters = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    need = parameters * (BYTES_PER_PARAMETER + BYTES_PER_PARAMETER_PER_EXAMPLE * batch)
    if need > MAX_TRAINING_BYTES and not force:
        raise _UsageError(f"MLP({' -> '.join(map(str, sizes))}) has {parameters:,} parameters; training it "
                          f"with batches of {batch} needs about {need / 2**30:.1f} GiB of memory "
                          f"(more than {MAX_TRAINING_BYTES / 2**30:g} GiB): choose smaller --hidden or "
                          "--batch-size, or pass --force")


def _accuracies(model: MLP, train: datasets.Dataset, test: datasets.Dataset | None, loss: str,
                history: History) -> str:
    shown = {"train": history.accuracy, "test": history.val_accuracy}  # what the progress bar ended on
    summary = []
    for part, subset in [("train", train)] + ([("test", test)] if test is not None else []):
        acc = shown[part][-1] if shown[part] and not history.interrupted else \
            evaluate(model, subset, loss=loss)[1]  # after a Ctrl-C the model is past the last epoch
        right = round((acc or 0.0) * len(subset))
        summary.append(f"{part} accuracy {acc:.1%} ({right}/{len(subset)})")
    return " | ".join(summary)


def _write_outputs(out: Path, model: MLP, history: History, train: datasets.Dataset, test: datasets.Dataset,
                   loss: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "model.json", out / "history.json", out / "loss.png"]
    model.save(written[0])
    _write_history(written[1], history)
    plot_history(history).savefig(written[2], dpi=120)
    if train.num_features == 2:
        title = f"{train.name.split(' ')[0]}: decision boundary after {history.epochs} epochs"
        plot_decision_boundary(model, train, title=title).savefig(out / "decision_boundary.png", dpi=120)
        written.append(out / "decision_boundary.png")
    elif train.num_features == 64:  # 8x8 images
        title = "test digits: the model's answer (wrong in red, true class in brackets)"
        plot_images(model, test, title=title).savefig(out / "predictions.png", dpi=120)
        written.append(out / "predictions.png")
    graph = _draw_one_example(out / "graph.svg", model, train, loss)
    if graph is not None:
        written.append(graph)
    return written


def _check_writable(out: Path) -> None:
    """Create the output directory and make sure a file can be written there."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise OSError(f"cannot write to the output directory {out}: {e.strerror or e}; "
                      f"choose another with --out") from None


def _write_history(path: Path, history: History) -> Path:
    path.write_text(json.dumps(vars(history), indent=1) + "\n")
    return path


def _draw_one_example(path: Path, model: MLP, train: datasets.Dataset, loss: str) -> Path | None:
    """The graph of one training example's loss, with its gradients (needs autograd_lite.viz).

    An example the model still learns from: a misclassified one, else one inside the margin
    (a hinge loss above 0), else the one with the largest loss; an example whose loss is 0 has
    every grad 0, and nothing to show. The caption says which example and why.
    Networks with more than a dozen neurons are drawn with one box per layer.
    """
    try:
        from autograd_lite import viz

        index, why = _example_to_draw(model, train, loss)
        x, target = train[index]
        inputs = [Value(v, label=f"x{i + 1}") for i, v in enumerate(x)]
        example_loss = LOSSES[loss](model(inputs), target)
        example_loss.label = "loss"
        model.zero_grad()
        example_loss.backward()
        collapse = "layer" if sum(model.sizes[1:]) > 12 else None
        caption = f"training example {index} (label {target}): {why}; loss {viz.fmt(example_loss.data)}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "drawn collapsed" is expected for big graphs
            drawing = viz.draw_dot(example_loss, params=model, collapse=collapse, caption=caption)
        viz.save(drawing, path)
        model.zero_grad()
        return path
    except Exception as e:  # drawing is a bonus: never lose the training run over it
        reason = str(e).split("\n")[0][:200] or type(e).__name__
        print(f"note: skipped {path.name} (drawing the graph failed: {reason})")
        return None


def _example_to_draw(model: MLP, train: datasets.Dataset, loss: str) -> tuple[int, str]:
    """(index, why): the misclassified example with the largest loss, else one inside the margin,
    else the largest loss."""
    loss_fn, correct = LOSSES[loss], CORRECT.get(LOSSES[loss])
    with no_grad():
        outputs = [model(train.X[i]) for i in range(len(train))]
        losses = [loss_fn(out, train.y[i]).data for i, out in enumerate(outputs)]
    wrong = [i for i in range(len(train)) if correct is not None and not correct(outputs[i], train.y[i])]
    if wrong:
        return max(wrong, key=losses.__getitem__), "misclassified, the one with the largest loss"
    if loss_fn is LOSSES.get("hinge") and any(v > 0 for v in losses):
        return max(range(len(train)), key=losses.__getitem__), "classified right but inside the margin"
    return max(range(len(train)), key=losses.__getitem__), "the largest loss of the training set"


def _note(message: Warning | str, *args: Any, **kwargs: Any) -> None:
    print(f"note: {message}", file=sys.stderr)


# --- arguments ------------------------------------------------------------------------------

def _recipe(args: argparse.Namespace) -> Recipe:
    recipe = RECIPES[args.dataset]
    if args.samples is not None and recipe.samples is None:
        raise _UsageError(f"--samples does not apply to {args.dataset}, which has a fixed number of examples")
    changes = {k: getattr(args, k) for k in ("hidden", "activation", "loss", "optimizer", "lr", "epochs",
                                             "batch_size", "samples") if getattr(args, k) is not None}
    if args.optimizer is not None and args.lr is None and args.optimizer != recipe.optimizer:
        changes["lr"] = 0.5 if args.optimizer == "sgd" else 0.01
    return replace(recipe, **changes)


def _load(name: str, recipe: Recipe, seed: int) -> datasets.Dataset:
    if name == "xor":
        return datasets.xor()
    if name == "digits":
        return datasets.digits()
    if recipe.samples is None or recipe.samples < 10:
        raise _UsageError(f"--samples {recipe.samples}: {name} needs at least 10 points")
    if recipe.samples > MAX_SAMPLES:
        raise _UsageError(f"--samples {recipe.samples}: at most {MAX_SAMPLES:,} points (a scalar engine "
                          "trains about a thousand a second)")
    return getattr(datasets, name)(recipe.samples, seed=seed)  # type: ignore[no-any-return]


def _sizes(text: str) -> tuple[int, ...]:
    if text.strip().lower() in ("", "none", "0"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of layer sizes such as 16,16") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes must be >= 1")
    return sizes


def _directory(text: str) -> Path:
    if not text:  # Path("") is ".": an empty --out would write into the current directory
        raise argparse.ArgumentTypeError("an empty path is not a directory (use --out . for this one)")
    return Path(text)


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1")
    return value


def _describe_optimizer(r: Recipe) -> str:
    name = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}[r.optimizer]
    momentum = f" with momentum {r.momentum:g}" if r.momentum and r.optimizer == "sgd" else ""
    return f"{name}{momentum}, lr {r.lr:g} decaying linearly to {r.lr / 10:g}"


def _describe_recipe(r: Recipe) -> str:
    hidden = ",".join(map(str, r.hidden)) or "none"
    return f"--hidden {hidden} --activation {r.activation} --loss {r.loss} --optimizer {r.optimizer} " \
           f"--lr {r.lr:g} --epochs {r.epochs}" + (f" --batch-size {r.batch_size}" if r.batch_size else "") \
           + (f" --samples {r.samples}" if r.samples else "")


if __name__ == "__main__":
    sys.exit(main())
