"""What `fit` records per epoch: a History (read by the plots, the live figure and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """Per-epoch numbers from `fit`, all measured at the end of each epoch on the model as it
    is then: loss and accuracy over the whole training set (not a running mean of the batches,
    which mixes the epoch's early and late weights), the same on the validation data, and the
    learning rate the epoch used. The progress bar shows these same numbers."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)  # empty if the loss has no notion of correct
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)  # the learning rate used in each epoch
    interrupted: bool = False  # stopped early with Ctrl-C

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def last(self) -> dict[str, float]:
        """The latest value of every curve that has one, e.g. {"loss": 0.12, "accuracy": 0.97}."""
        curves = {"loss": self.loss, "accuracy": self.accuracy, "val_loss": self.val_loss,
                  "val_accuracy": self.val_accuracy}
        return {name: values[-1] for name, values in curves.items() if values}

    def __repr__(self) -> str:
        if not self.loss:
            return "History(no epochs)"
        last = ", ".join(f"{name} {value:.4g}" for name, value in self.last().items())
        stop = ", interrupted" if self.interrupted else ""
        return f"History({self.epochs} epochs{stop}; last: {last})"
