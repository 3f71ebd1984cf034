"""The package: importing it is light, and what it exports is there."""

from __future__ import annotations

import subprocess
import sys

import autograd_lite


def test_import_does_not_pull_in_drawing_plotting_torch_or_the_tape() -> None:
    code = ("import sys, autograd_lite; from autograd_lite import Value; (Value(1.0) * 2).backward(); "
            "print(sorted(m for m in ('graphviz', 'matplotlib', 'torch', 'tqdm', 'autograd_lite.tape') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names() -> None:
    for name in autograd_lite.__all__:
        assert hasattr(autograd_lite, name), name
    assert autograd_lite.__version__
