"""Programme cards keep their content inside their border, on a laptop and on a phone; pages
keep their distance from the footer."""

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


def test_a_page_ends_with_space_before_the_footer(app, new_context, live_server):
    """A page whose last element is a button (a confirmation page) does not touch the footer."""
    page = new_context().new_page()
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + "/network/sign-in")
    gap = page.evaluate(
        """() => document.querySelector('.site-footer').getBoundingClientRect().top
             - document.querySelector('main form button').getBoundingClientRect().bottom"""
    )
    assert gap >= 32


@pytest.mark.parametrize("width", [320, 375])
def test_filter_fields_on_a_phone_stay_wide_enough_to_read(app, new_context, live_server, width):
    """Filters wrap one a line on a phone instead of shrinking to slivers side by side."""
    page = new_context(locale="it").new_page()
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server + "/practices")
    widths = page.evaluate(
        "[...document.querySelectorAll('.filters-form .field')]"
        ".map(f => Math.round(f.getBoundingClientRect().width))"
    )
    assert len(widths) >= 3 and min(widths) >= 150, widths
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_programme_cards_give_their_values_the_cards_width(app, new_context, live_server):
    """Labels sit above their values: the days of a mission are not squeezed into a third of a
    card, where words broke in the middle ("cooperative / s")."""
    load_programme()
    page = new_context().new_page()
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto(live_server + "/")
    narrowest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('.card .facts dd')].map(dd =>
             dd.getBoundingClientRect().width / dd.closest('.card').clientWidth))"""
    )
    assert narrowest > 0.8
