"""Counting how often the best-practice booklet's PDF is built."""

from eventreg.services import booklet


def count_booklet_builds(monkeypatch) -> list[int]:
    """A list that grows by one each time the booklet PDF is built; WeasyPrint still runs."""
    built = []
    real_render = booklet.render_pdf

    def counted_render(*args, **kwargs):
        built.append(1)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(booklet, "render_pdf", counted_render)
    return built
