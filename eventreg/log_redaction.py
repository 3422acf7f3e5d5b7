"""Logs without the secrets that personal links carry in their path.

A manage link (``/manage/<token>``) opens a person's registrations, a sign-in link a member's
session: an access log or an error report that kept them would hand both to whoever reads the
logs. The token is the path segment after one of these prefixes, which are the URL rules with
a ``<token>`` (tests/test_serving.py keeps the two in step); deploy/nginx/eventreg.conf
writes its log the same way.
"""

import re

TOKEN_PREFIXES = (
    "j",
    "manage",
    "account/reset",
    "feedback",
    "network/confirm",
    "network/sign-in",
    "network/leave",
    "network/unsubscribe",
    "network/block",
)
_TOKEN = re.compile(
    r"(/(?:" + "|".join(re.escape(prefix) for prefix in TOKEN_PREFIXES) + r")/)[^/?#\s\"]+"
)


def redact(text: str) -> str:
    """``text`` (a path, a request line, a Referer) with each link's token as ``[token]``."""
    return _TOKEN.sub(r"\1[token]", text) if text else text
