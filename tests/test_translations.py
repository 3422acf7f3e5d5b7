"""Seven languages: complete catalogues, matching placeholders, in step with the code."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from eventreg.config import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "eventreg" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalogue(language):
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file, locale=language)


def forms(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_catalogue_is_complete_and_placeholders_match(language):
    problems = []
    for message in catalogue(language):
        if not message.id:
            continue
        source = " ".join(forms(message.id))
        wanted = set(PLACEHOLDER.findall(source))
        for translation in forms(message.string):
            if not translation:
                problems.append(f"missing: {source!r}")
            elif set(PLACEHOLDER.findall(translation)) - wanted or (
                wanted - {"num"} - set(PLACEHOLDER.findall(translation))
            ):
                problems.append(f"placeholders differ: {source!r} -> {translation!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {source!r}")
    assert problems == []


def test_catalogues_hold_every_text_of_the_source(tmp_path):
    """A text added to the code without `scripts/i18n extract` fails here."""
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [Path(sys.executable).parent / "pybabel", "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_gettext", "--no-location", "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with open(fresh, "rb") as file:
        in_source = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(file) if m.id}
    for language in sorted(set(LANGUAGES) - {"en"}):
        in_catalogue = {
            m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(language) if m.id
        }
        assert in_source - in_catalogue == set(), language
