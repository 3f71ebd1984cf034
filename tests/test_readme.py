"""The README's Python examples run as written, in order, in one namespace, and print what they say.

The convention for a checked comment: a comment on a line that calls `print(...)` states what that
print writes, the whole comment and nothing else. `...` stands for any text (also several lines),
so `# History(30 epochs; last: loss ..., accuracy 0.9875, ...)` checks the accuracy and not the loss.
An explanation goes on a comment line of its own, above. Comments on other lines are not checked.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from pathlib import Path
from typing import Any

from autograd_lite import Value, ops

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert blocks, "README.md has no python examples"
    return blocks


def print_claims(block: str) -> dict[int, str]:
    """Line number -> the comment on that line, for the lines that call print()."""
    claims = {}
    for token in tokenize.generate_tokens(io.StringIO(block).readline):
        if token.type == tokenize.COMMENT:
            line = token.line[: token.start[1]]
            if re.search(r"\bprint\(", line):
                claims[token.start[0]] = token.string[1:].strip()
    return claims


def matches(claim: str, printed: str) -> bool:
    pattern = ".*?".join(re.escape(part.strip()) for part in claim.split("..."))
    return re.fullmatch(r"\s*" + pattern + r"\s*", printed, flags=re.DOTALL) is not None


def test_convention_of_checked_comments() -> None:
    assert print_claims("x = 1  # not a print\nprint(x)  # 1\n# print(x) alone\n") == {2: "1"}
    assert matches("History(30 epochs; last: loss ..., accuracy 1, ...)",
                   "History(30 epochs; last: loss 0.035, accuracy 1, val_accuracy 1)")
    assert not matches("History(... accuracy 1, ...)", "History(loss 0.03, accuracy 0.9875, val_accuracy 1)")
    assert matches("... a.grad = 2 ...", "b.grad = 1\na.grad = 2\nc.grad = 3")
    assert not matches("6.0 -4.0", "6.0 -4.0 1.0")


def test_readme_python_blocks_run_and_print_what_their_comments_say(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    wrong, checked = [], 0
    built_in = dict(ops.OPS)
    try:
        for i, block in enumerate(python_blocks()):
            name = f"README.md python block {i + 1}"
            printed: dict[int, list[str]] = {}

            def capture(*args: Any, sep: str = " ", end: str = "\n", file: Any = None, flush: bool = False,
                        _name: str = name, _printed: dict[int, list[str]] = printed) -> None:
                caller = sys._getframe(1)
                if file is not None or caller.f_code.co_filename != _name:  # not the README's own print
                    print(*args, sep=sep, end=end, file=file, flush=flush)
                    return
                _printed.setdefault(caller.f_lineno, []).append(sep.join(map(str, args)) + end)

            namespace["print"] = capture
            exec(compile(block, name, "exec"), namespace)  # noqa: S102
            for line, claim in print_claims(block).items():
                checked += 1
                out = "".join(printed.get(line, []))
                if not matches(claim, out):
                    wrong.append(f"{name}, line {line}: the comment says {claim!r}, "
                                 f"it printed {out.strip()!r}")
    finally:  # the ops the README defines (define_op) leave with it: other tests loop over ops.OPS
        ops.OPS.clear()
        ops.OPS.update(built_in)
    assert wrong == []
    assert checked >= 8  # the checks did run


def test_the_functions_the_readme_lists_are_values_methods() -> None:
    text = README.read_text(encoding="utf-8")
    listed = re.search(r"have the usual functions:\s*`([^`]*)`", text)
    assert listed, "the README's list of Value's functions moved: update this test"
    names = re.findall(r"(\w+)\(\)", listed.group(1))
    assert len(names) >= 8
    assert [n for n in names if not callable(getattr(Value, n, None))] == []


def test_the_composite_ops_the_readme_lists_are_not_primitives() -> None:
    (listed,) = re.findall(r"Composite\s+operations \(([^)]*)\) are built from the primitives",
                           README.read_text(encoding="utf-8"))
    composite = re.findall(r"`([^`]+)`", listed)
    assert composite and not {op.symbol for op in ops.OPS.values()} & set(composite), composite  # / is div
