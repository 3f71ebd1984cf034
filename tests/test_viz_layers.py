"""The drawing code's layers: each module imports only the ones below it (no import circle)."""

from __future__ import annotations

import ast
from pathlib import Path

import autograd_lite

# bottom to top; a module may import any module listed before it (and the engine, ops, ...)
LAYERS = ["viz_nodes", "viz_neurons", "viz_names", "viz_base", "viz_collapse", "viz_draw", "stepper_steps",
          "stepper_frames", "stepper_html", "stepper", "viz"]


def imports(module: str) -> set[str]:
    """Every autograd_lite module that `module` imports, at the top or inside a function."""
    path = Path(autograd_lite.__file__).parent / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("autograd_lite."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.ImportFrom) and node.module == "autograd_lite":  # import viz (a module)
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("autograd_lite."))
    return found


def test_each_drawing_module_imports_only_lower_layers() -> None:
    for level, module in enumerate(LAYERS):
        upward = {m for m in imports(module) if m in LAYERS[level:]}
        assert not upward, f"{module} imports {upward}, which are not below it"


def test_the_matcher_is_a_table_of_small_functions() -> None:
    from autograd_lite import viz_neurons

    assert set(viz_neurons.MATCHERS) >= {"mul", "dot", "add", "sum", "tanh", "relu", "sigmoid"}
    for matcher in set(viz_neurons.MATCHERS.values()):
        lines = matcher.__code__.co_firstlineno
        source = Path(viz_neurons.__file__).read_text().splitlines()[lines - 1:]
        length = next(i for i, line in enumerate(source[1:], 1) if line and not line.startswith(" "))
        assert length <= 16, f"{matcher.__name__} is {length} lines"
