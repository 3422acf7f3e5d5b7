"""network: members' names and texts folded for the directory's search (Nunez finds Núñez,
jorgensen Jørgensen); a member can stop the network's e-mails (what the link in each e-mail
now does, instead of deleting the profile)

Revision ID: 0018_network_search
Revises: 0016_folded_names
Create Date: 2026-11-30 20:00:00.000000

"""

import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_network_search"
down_revision = "0016_folded_names"
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


def upgrade():
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("receives_mail", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, name, organisation, role, bio FROM member")).all()
    if rows:
        bind.execute(
            sa.text("UPDATE member SET search_text = :folded WHERE id = :id"),
            [
                {"id": id_, "folded": _fold("\n".join(text for text in texts if text))}
                for id_, *texts in rows
            ],
        )


def downgrade():
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("search_text")
        batch_op.drop_column("receives_mail")
