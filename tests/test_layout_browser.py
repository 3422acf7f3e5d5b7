"""Programme cards keep their content inside their border, on a laptop and on a phone."""

import pytest

from eventreg.services.programme import load_programme

OVERFLOWING = """() => [...document.querySelectorAll('.card')].flatMap(card => {
  const box = card.getBoundingClientRect();
  return [...card.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > box.right + 0.5
      || el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible')
    .map(el => `${el.tagName}: ${el.textContent.trim().slice(0, 60)}`);
})"""


@pytest.mark.parametrize("width", [1280, 1024, 320])
def test_programme_cards_do_not_overflow_their_border(app, new_context, live_server, width):
    load_programme()
    page = new_context().new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server + "/")
    assert page.locator(".card").count() == 6
    assert page.evaluate(OVERFLOWING) == []
