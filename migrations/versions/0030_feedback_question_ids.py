"""a feedback question's id is never given again (SQLite AUTOINCREMENT): answers are stored by
it, and a removed question's answers must not become the next question's

Revision ID: 0030_feedback_question_ids
Revises: 0029_former_members
Create Date: 2026-12-01 10:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0030_feedback_question_ids"
down_revision = "0029_former_members"
branch_labels = None
depends_on = None


def upgrade():
    # PostgreSQL's sequence never gives an id again: only SQLite's table is rebuilt.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "feedback_question", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade():
    pass  # ids that are never given again are no harm to the older code
