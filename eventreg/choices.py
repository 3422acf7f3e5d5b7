"""Choice lists for forms and the API: countries, target groups, languages."""

from functools import cache

import pycountry
from babel import Locale
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .models import ReportReason, SocialEconomyType, TargetGroup

# The programme's partner countries come first in the country list.
PARTNER_COUNTRIES = ("IT", "PT", "DK", "SE", "ES", "BG")

TARGET_GROUP_LABELS = {
    TargetGroup.SOCIAL_ECONOMY: _l("Social economy actor"),
    TargetGroup.LOCAL_REGIONAL_AUTHORITY: _l("Local or regional authority"),
    TargetGroup.PUBLIC_BODY: _l("Other public body"),
    TargetGroup.BUSINESS: _l("Business"),
    TargetGroup.SERVICE_PROVIDER: _l("Service provider"),
    TargetGroup.OTHER: _l("Other"),
}

SOCIAL_ECONOMY_TYPE_LABELS = {
    SocialEconomyType.FOUNDATION: _l("Foundation"),
    SocialEconomyType.ASSOCIATION: _l("Association"),
    SocialEconomyType.SOCIAL_ENTERPRISE: _l("Social enterprise"),
    SocialEconomyType.COOPERATIVE: _l("Cooperative"),
    SocialEconomyType.OTHER: _l("Other social-economy organisation"),
}


# Why a member reports another, as the report form and the organisers' list say it.
REPORT_REASON_LABELS = {
    ReportReason.SPAM.value: _l("Spam or advertising"),
    ReportReason.HARASSMENT.value: _l("Harassment or abusive language"),
    ReportReason.FAKE_PROFILE.value: _l("Fake profile or impersonation"),
    ReportReason.INAPPROPRIATE.value: _l("Inappropriate or offensive content"),
    ReportReason.OTHER.value: _l("Something else"),
}


@cache
def country_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def country_name(code: str) -> str:
    """The country's name in the current language."""
    return _country_name(get_locale(), code)


def _country_name(locale: Locale, code: str) -> str:
    name = locale.territories.get(code)
    return name or pycountry.countries.get(alpha_2=code).name


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 countries for a select: partner countries first, then the rest by name."""
    return _country_choices(get_locale())


@cache
def _country_choices(locale: Locale) -> list[tuple[str, str]]:
    """Built once per language: sorting 250 names on every form was a third of a sign-up."""
    rest = sorted(
        country_codes() - set(PARTNER_COUNTRIES),
        key=lambda code: _country_name(locale, code).casefold(),
    )
    return [(code, _country_name(locale, code)) for code in (*PARTNER_COUNTRIES, *rest)]


def language_choices() -> list[tuple[str, str]]:
    return list(current_app.config["LANGUAGES"].items())


def target_group_choices() -> list[tuple[str, str]]:
    return [(group.value, label) for group, label in TARGET_GROUP_LABELS.items()]


def social_economy_type_choices() -> list[tuple[str, str]]:
    return [(kind.value, label) for kind, label in SOCIAL_ECONOMY_TYPE_LABELS.items()]
