"""Every notebook runs top to bottom in a real Jupyter kernel (the asserts inside check its results).

The test sets AUTOGRAD_LITE_QUICK=1: notebooks that train (digits) then use a small subset and
say so. Outputs are not kept; run a notebook yourself to see its pictures.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_notebooks_are_there_and_stored_without_outputs() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert names[:2] == ["01_value_and_chain_rule", "02_worked_example"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOGRAD_LITE_QUICK", "1")  # the kernel inherits it
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})  # files it writes go there
    client.execute()  # raises CellExecutionError, with the cell and the traceback, if any cell fails
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]
    assert errors == []
    shown = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
             if out.output_type in ("display_data", "execute_result")]
    assert any("image/svg+xml" in out.data or "image/png" in out.data or "text/html" in out.data
               for out in shown), "a notebook should teach with pictures"
