"""Model files on disk: JSON written so it cannot clobber anything, read with bounded memory.

`MLP.save` and `MLP.load` (nn.py) call these. Nothing here knows about Values: a model file is
plain data, `{"format": "autograd_lite.MLP", "version": 1, "nin": ..., "layers": [...]}`, and a
file is never executed (no pickle).

Memory: `json.loads` costs ~2-4 bytes per file byte; the model built from the file costs ~130
bytes per weight, which for files as `save` writes them (~26 bytes per weight) is ~5 bytes per
file byte. A file of short numbers ("0,0,0,...") is the worst case per byte, so the number of
weights is capped too (`max_weights`), and checked before any Value is made.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

FORMAT = "autograd_lite.MLP"  # the "format" field of a saved model
MAX_FILE_BYTES = 50_000_000  # far beyond what a scalar engine trains; guards against huge files
MAX_WEIGHTS = 2_000_000  # ~ what a 50 MB file written by save holds; ~260 MB of Values

Layers = tuple[int, list[str], list[list[list[float]]], list[list[float]]]


class ModelFileError(ValueError):
    """A model file (or dict) that cannot be loaded, or a path a model cannot be saved to;
    the message says what is wrong and where."""


def write_file(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` to `path` atomically, but only over a regular file or a new path.

    A symlink is followed: its target is written and the link kept (as `open(path, "w")` would).
    A directory, device, fifo or socket raises ModelFileError and nothing is touched. The text
    goes to a temporary file next to the target, is fsynced, then renamed over it, so a crash
    leaves either the old file or the new one. Returns the path actually written.
    """
    target = Path(os.path.realpath(path))  # through every symlink, so the link itself survives
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise ModelFileError(f"{path}: is {_kind(mode)}, not a regular file; a model is only written to a "
                             "new path or over a model file: choose a file name such as model.json")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:  # say it as open(path, "w") would, not with the temporary file's name
        raise type(e)(e.errno, e.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.chmod(tmp, mode & 0o777 if mode is not None else 0o644)  # not mkstemp's 0600
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a model file's JSON; every way it can fail is a ModelFileError naming the file."""
    path = Path(path)
    info = os.stat(path)  # FileNotFoundError stays what it is
    if not stat.S_ISREG(info.st_mode):  # /dev/zero or a fifo would be read forever
        raise ModelFileError(f"{path}: is {_kind(info.st_mode)}, not a model file")
    if info.st_size > MAX_FILE_BYTES:
        raise ModelFileError(f"{path}: {info.st_size} bytes is too large for a model file "
                             f"(limit {MAX_FILE_BYTES}); is it the right file?")
    with open(path, "rb") as f:
        raw = f.read(info.st_size + 1)  # read(n) allocates n bytes: ask for no more than the file
    if len(raw) > info.st_size:
        raise ModelFileError(f"{path}: the file grew while it was read; load it again once it is written")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{path}: not a text (UTF-8) file: {e.reason} at byte {e.start}") from None
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); "
                             f"the file may be truncated or not a model saved by MLP.save") from None
    except (ValueError, RecursionError, MemoryError) as e:  # NaN, 5000-digit numbers, deep nesting
        raise ModelFileError(f"{path}: cannot be read as a model: {str(e) or type(e).__name__}") from None


def read_model(data: Any, source: str, activations: Collection[str],
               max_weights: int = MAX_WEIGHTS) -> Layers:
    """Check saved-model data field by field; return (nin, activations, weights, biases).

    Shapes are checked (and the weights counted against `max_weights`) before any number is read.
    """
    def fail(what: str) -> ModelFileError:
        return ModelFileError(f"{source}: {what}")

    layers = _read_header(data, fail)
    nin = data["nin"]
    if nin > max_weights:
        raise fail(f"\"nin\" is {_short(nin)}: more weights than max_weights ({max_weights:,}) allows")
    width, count = nin, 0
    for i, layer in enumerate(layers):
        _check_shape(layer, f"layers[{i}]", width, activations, fail)
        width = len(layer["weights"])
        count += width * (len(layer["weights"][0]) + 1)
        if count > max_weights:
            raise fail(f"layers[0..{i}] hold more than {max_weights:,} weights and biases (max_weights); "
                       "pass a larger max_weights to MLP.load if this model is meant to be that big")
    weights = [[[_number(w, fail, f"layers[{i}].weights[{j}][{k}]") for k, w in enumerate(row)]
                for j, row in enumerate(layer["weights"])] for i, layer in enumerate(layers)]
    biases = [[_number(b, fail, f"layers[{i}].biases[{j}]") for j, b in enumerate(layer["biases"])]
              for i, layer in enumerate(layers)]
    return nin, [layer["activation"] for layer in layers], weights, biases


def _read_header(data: Any, fail: Callable[[str], ModelFileError]) -> list[Any]:
    if not isinstance(data, dict):
        raise fail(f"expected a JSON object with \"format\": {FORMAT!r}, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise fail(f"not an autograd_lite MLP (\"format\" is {_short(data.get('format'))}, "
                   f"expected {FORMAT!r})")
    version = data.get("version")
    if version != 1 or isinstance(version, bool):
        newer = isinstance(version, int) and not isinstance(version, bool) and version > 1
        why = "is newer than this autograd_lite reads (1): upgrade it" if newer else \
            "is not a known model-file version (expected 1)"
        raise fail(f"version {_short(version)} {why}")
    nin = data.get("nin")
    if not isinstance(nin, int) or isinstance(nin, bool) or nin < 1:
        raise fail(f"\"nin\" must be a whole number >= 1, got {_short(nin)}")
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise fail(f"\"layers\" must be a non-empty list, got {_type_of(layers)}")
    return layers


def _check_shape(layer: Any, where: str, width: int, activations: Collection[str],
                 fail: Callable[[str], ModelFileError]) -> None:
    if not isinstance(layer, dict):
        raise fail(f"{where} must be an object with activation, weights, biases; got {_type_of(layer)}")
    act = layer.get("activation")
    if not isinstance(act, str) or act not in activations:
        raise fail(f"{where}.activation {_short(act)} is not one of {', '.join(activations)}")
    rows, bs = layer.get("weights"), layer.get("biases")
    if not isinstance(rows, list) or not isinstance(bs, list) or not rows or len(rows) != len(bs):
        raise fail(f"{where} needs \"weights\" (one list per neuron) and \"biases\" (one number per "
                   f"neuron), non-empty and of the same length; got {_type_of(rows)} and {_type_of(bs)}")
    for j, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise fail(f"{where}.weights[{j}] must be a list of {width} numbers (one per input), "
                       f"got {_type_of(row)}")


def _number(x: Any, fail: Callable[[str], ModelFileError], where: str) -> float:
    if isinstance(x, float) and math.isfinite(x):  # the common case first: one check per weight
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        try:
            return float(x)  # OverflowError past ~1.8e308 (a 400-digit integer)
        except OverflowError:
            raise fail(f"{where} is an integer of {len(str(abs(x)))} digits, too large for a float") from None
    raise fail(f"{where} must be a finite number, got {_short(x)}")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a model can hold (weights must be finite)")


def _kind(mode: int) -> str:
    kinds = {stat.S_ISDIR: "a directory", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device",
             stat.S_ISFIFO: "a fifo (named pipe)", stat.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "not a regular file")


def _type_of(x: Any) -> str:
    if isinstance(x, list):
        return f"a list of {len(x)}"
    return "nothing" if x is None else f"{type(x).__name__} {_short(x)}"[:60]


def _short(x: Any) -> str:
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) > 10**20:
        return f"an integer of {len(str(abs(x)))} digits"
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."
