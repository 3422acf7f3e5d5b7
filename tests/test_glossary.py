"""One translation per glossary term: a catalogue entry or programme text whose English uses a
term must use that term's translation, never a rejected variant."""

import re
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from eventreg.config import LANGUAGES
from eventreg.services.programme import SHIPPED_PROGRAMME, read_programme

CATALOGUES = Path(__file__).resolve().parent.parent / "eventreg" / "translations"
TRANSLATED = sorted(set(LANGUAGES) - {"en"})
TERMS = {"registration", "waiting list", "check in", "procurement", "social economy",
         "network of practice", "webinar"}  # fmt: skip


def glossary(language: str) -> list[dict]:
    return tomllib.loads((CATALOGUES / language / "glossary.toml").read_text("utf-8"))["terms"]


def texts(language: str) -> list[tuple[str, str]]:
    """(English, translation) pairs: every catalogue entry and the programme's event texts."""
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        catalogue = read_po(file, locale=language)
    pairs = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs += [(ids[min(i, len(ids) - 1)], string) for i, string in enumerate(strings)]
    for event in read_programme(SHIPPED_PROGRAMME):
        for field, translated in event["translations"].get(language, {}).items():
            if field == "days":  # a title per day, by the day's local date
                zone = ZoneInfo(event["timezone"])
                english = {
                    d.starts_at.astimezone(zone).date().isoformat(): d.title
                    for d in event["agenda"]
                }
                pairs += [(english[day], title) for day, title in translated.items()]
            else:
                pairs.append((event[field], translated))
    return pairs


def term_problems(language: str, pairs: list[tuple[str, str]]) -> list[str]:
    problems = []
    for term in glossary(language):
        source = re.compile(term["source"], re.IGNORECASE)
        accepted = re.compile(term["accepted"], re.IGNORECASE)
        rejected = [re.compile(pattern) for pattern in term["rejected"]]
        for english, translated in pairs:
            if not source.search(english):
                continue  # the same word may be right for another term ("registrazione": recording)
            if not accepted.search(translated):
                problems.append(f"{term['en']!r} not as {term['translation']!r}: {translated!r}")
            for pattern in rejected:
                if pattern.search(translated):
                    problems.append(f"{term['en']!r} as {pattern.pattern!r}: {translated!r}")
    return problems


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_language_has_a_glossary_of_the_programmes_terms(language):
    assert {term["en"] for term in glossary(language)} >= TERMS


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_glossary_term_is_translated_one_way(language):
    assert term_problems(language, texts(language)) == []


def test_a_term_translated_a_second_way_is_caught():
    """The check itself: a Bulgarian check-in called "регистрация" again, an Italian
    "registrazione", a Spanish "Webinar" beside "seminario web"."""
    assert term_problems("bg", [("Undo check-in", "Отмени регистрацията на входа")])
    assert term_problems("it", [("Registration", "Registrazione")])
    assert term_problems("es", [("Webinar 1: EU policy", "Webinar 1: política de la UE")])
    assert not term_problems("es", [("Webinar 1: EU policy", "Seminario web 1: política")])
