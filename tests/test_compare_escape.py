"""The drift report's HTML escapes what came from files: a warning or a name holding
markup must show as text, never run in the reader's browser."""

from scoring.compare import Comparison
from scoring.compare_report import render_html, render_markdown


def _comparison(text: str) -> Comparison:
    return Comparison(base_id="a", new_id="b", metrics=[], prices=[], site_costs={},
                      totals={}, ranks={}, winner=(None, None), requirement_flips=[],
                      warnings=[text])


def test_html_escapes_markup_and_markdown_keeps_it():
    hostile = '<script>alert("x")</script>'
    html = render_html(_comparison(hostile), [hostile])
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    # Markdown is plain text for a terminal or a Git host, where escaping would garble it.
    assert hostile in render_markdown(_comparison(hostile), [hostile])
