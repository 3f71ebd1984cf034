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


class CountingClient(NotebookClient):
    """Counts the updates of displays made with display_id (a live figure replacing itself)."""

    updates: dict[str, int]

    def _update_display_id(self, display_id: str, msg: dict) -> None:
        if msg["header"]["msg_type"] == "update_display_data":
            self.updates[display_id] = self.updates.get(display_id, 0) + 1
        super()._update_display_id(display_id, msg)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOGRAD_LITE_QUICK", "1")  # the kernel inherits it
    nb = nbformat.read(path, as_version=4)
    client = CountingClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})  # files it writes go there
    client.updates = {}
    client.execute()  # raises CellExecutionError, with the cell and the traceback, if any cell fails
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]
    assert errors == []
    shown = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
             if out.output_type in ("display_data", "execute_result")]
    assert any("image/svg+xml" in out.data or "image/png" in out.data or "text/html" in out.data
               for out in shown), "a notebook should teach with pictures"
    for cell in nb.cells:
        if "live-plot" in cell.metadata.get("tags", []):  # fit(..., live=True): one figure, redrawn
            pictures = [out for out in cell.outputs if "image/png" in out.get("data", {})]
            assert len(pictures) == 1, f"the live figure was shown {len(pictures)} times, not updated"
            assert sum(client.updates.values()) >= 1, "the live figure was never updated"
