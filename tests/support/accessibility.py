"""axe-core in Chromium: the WCAG 2.1 AA audit every page test shares, and logged-in pages."""

import re
from pathlib import Path

from tests.support.factories import PASSWORD

AXE = Path(__file__).parent.parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page) -> list:
    """axe-core's findings for the page as it stands (CSP bypassed to inject axe).

    Contexts from ``audited_context`` already hold axe in every page; others get it here.
    Only violations are collected: passes and the rest cost time and are never read.
    """
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']}))"
        ".violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)}))",
        WCAG_AA,
    )


def audited_context(new_context, language: str, width: int = 320):
    """A browser context in ``language`` whose every page carries axe-core from the start."""
    context = new_context(bypass_csp=True, locale=language)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 640})
    return page


def logged_in(new_context, live_server, language, email="organiser@example.org", width=390):
    page = audited_context(new_context, language, width)
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))
    return page
