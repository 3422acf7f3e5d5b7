"""registrants' names folded for searching (Nunez finds Núñez, Jorgensen Jørgensen); practice
texts folded again the same way; e-mail addresses with their domain in ASCII form, as the forms
now store them (ivan@пример.бг becomes ivan@xn--e1afmkfd.xn--90ae)

Revision ID: 0016_folded_names
Revises: 0015_network_blocks_sessions
Create Date: 2026-11-30 17:45:00.000000

"""

import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_folded_names"
down_revision = "0015_network_blocks_sessions"
branch_labels = None
depends_on = None

# eventreg/folding.py as of this revision (a migration keeps the code it was written with).
_WHOLE_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d",
     "ł": "l", "Ł": "l", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "ı": "i"}
)  # fmt: skip


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text.translate(_WHOLE_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _ascii_domain(address):
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return address
    return (result.ascii_email or address).lower()


def _ascii_addresses(bind, table, unique):
    rows = bind.execute(sa.text(f'SELECT id, email FROM "{table}"')).all()
    taken = {email for _, email in rows}
    for id_, email in rows:
        if not email or email.isascii():
            continue
        new = _ascii_domain(email)
        if new == email or (unique and new in taken):
            continue  # a local part outside ASCII stays (its messages fail, recorded as such)
        bind.execute(
            sa.text(f'UPDATE "{table}" SET email = :new WHERE id = :id'), {"id": id_, "new": new}
        )
        taken.add(new)


def upgrade():
    with op.batch_alter_table("registrant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_name", sa.String(length=400), server_default="", nullable=False)
        )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, first_name, last_name FROM registrant")).all()
    if rows:
        bind.execute(
            sa.text("UPDATE registrant SET search_name = :folded WHERE id = :id"),
            [
                {"id": id_, "folded": _fold(" ".join(n for n in (first, last) if n))}
                for id_, first, last in rows
            ],
        )
    _ascii_addresses(bind, "registrant", unique=False)
    _ascii_addresses(bind, "member", unique=True)
    _ascii_addresses(bind, "user", unique=True)
    texts = bind.execute(
        sa.text("SELECT id, title, summary, clause, results FROM practice_text")
    ).all()
    for id_, *parts in texts:
        folded = _fold(" ".join(part or "" for part in parts))
        bind.execute(
            sa.text("UPDATE practice_text SET search_text = :folded WHERE id = :id"),
            {"id": id_, "folded": folded},
        )
        if bind.dialect.name == "sqlite":
            bind.execute(sa.text("DELETE FROM practice_search WHERE rowid = :id"), {"id": id_})
            bind.execute(
                sa.text("INSERT INTO practice_search (rowid, body) VALUES (:id, :body)"),
                {"id": id_, "body": folded},
            )


def downgrade():
    with op.batch_alter_table("registrant", schema=None) as batch_op:
        batch_op.drop_column("search_name")
