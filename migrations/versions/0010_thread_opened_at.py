"""threads: opened by their first comment that is not spam

A spam post still creates the thread it is stored in, but no longer gives it a title, a URL or an age:
those come from the first approved or held comment (or an import). Existing threads were opened when
they were created.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 17:20:59.237943

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE threads SET opened_at = created_at")


def downgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_column('opened_at')
