"""The example notebook runs top to bottom against the installed package (CI installs the
`notebook` extra for this), so it never rots."""
import os

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook extra (pip install 'swiftw[notebook]') is not installed")
nbclient = pytest.importorskip("nbclient", reason="the notebook extra (pip install 'swiftw[notebook]') is not installed")
pytest.importorskip("matplotlib", reason="the notebook extra (pip install 'swiftw[notebook]') is not installed")

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def test_lens_fit_loop_notebook_runs_and_finds_the_true_lens(tmp_path):
    notebook = nbformat.read(os.path.join(EXAMPLES, "lens_fit_loop.ipynb"), as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.get("outputs", []))
    assert "best Einstein radius: 1.20" in printed, printed
    figures = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert figures, "the last cell drew no figure"
