"""The README's Python examples run as written, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

from autograd_lite import ops

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert blocks, "README.md has no python examples"
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    namespace: dict = {"__name__": "__readme__"}
    built_in = dict(ops.OPS)
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)  # noqa: S102
    finally:  # the ops the README defines (define_op) leave with it: other tests loop over ops.OPS
        ops.OPS.clear()
        ops.OPS.update(built_in)
