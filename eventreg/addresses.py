"""E-mail addresses in the one form the database keeps and looks them up in."""

from email_validator import EmailNotValidError, validate_email


def canonical(address: str) -> str:
    """Lower case, with the domain in its ASCII form (``ivan@пример.бг`` is kept as
    ``ivan@xn--e1afmkfd.xn--90ae``, which every mail server delivers to). The forms store
    addresses so; a lookup by an address typed elsewhere (the login, the CLI) must match them.
    Text that is no address comes back trimmed and lower-cased."""
    text = address.strip()
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return text.lower()
    return (result.ascii_email or result.normalized).lower()
