"""`load_results("latest")` and `BAKEOFF_RESULTS=results` from notebooks/ (issue 23): a
Jupyter kernel runs in the notebook's folder, so a relative root is also looked up from
the folder the user started in ($PWD), and the loaders say which root they read."""

from __future__ import annotations

import pytest
from decide_fixture import make_campaign

from bench.history import load_history
from bench.results import load_results
from core.errors import BakeoffError


def test_relative_root_from_the_notebooks_folder(tmp_path, monkeypatch):
    start = tmp_path / "clone"
    folder = make_campaign(start / "results")
    (start / "notebooks").mkdir()
    monkeypatch.chdir(start / "notebooks")  # where the kernel runs
    monkeypatch.delenv("BAKEOFF_RESULTS", raising=False)
    monkeypatch.setenv("PWD", str(start))  # the shell Jupyter was launched from
    r = load_results("latest")
    assert r.dir == folder.resolve()
    monkeypatch.setenv("BAKEOFF_RESULTS", "results")
    h = load_history("results")
    assert h.root == str((start / "results").resolve()) and len(h.campaigns) == 1
    # the current folder wins when the root is there
    assert load_results("latest", "../results").dir.resolve() == folder.resolve()


def test_nowhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.delenv("BAKEOFF_RESULTS", raising=False)
    with pytest.raises(BakeoffError, match="no campaign in the results root"):
        load_results("latest")
