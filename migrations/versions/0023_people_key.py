"""registrant.person_key: the random key that keeps one person's sign-ups, anonymised together,
one person in the people figures once their address is gone (NULL for those anonymised
before: nothing left tells whose sign-ups they were)

Revision ID: 0023_people_key
Revises: 0020_outbox_leases
Create Date: 2026-11-30 23:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023_people_key"
down_revision = "0020_outbox_leases"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registrant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_key", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("registrant", schema=None) as batch_op:
        batch_op.drop_column("person_key")
