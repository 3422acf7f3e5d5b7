"""events remember what the programme file last gave them

Revision ID: 0006_programme_values
Revises: 0005
Create Date: 2026-11-30 05:00:00

Existing events start with no record (NULL): every field where the file differs from them is
shown as a possible organiser edit, kept unless `programme load --update --yes
--overwrite-edits` is given.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_programme_values"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("programme_values", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("programme_values")
