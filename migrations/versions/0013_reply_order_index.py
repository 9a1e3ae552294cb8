"""replies index: a page's replies chosen by position from the index, without reading their rows

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 17:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_replies', ['root_id', 'created_at', 'id', 'status', 'parent_id'], unique=False)
        batch_op.drop_index('ix_comments_root_id')


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_root_id', ['root_id'], unique=False)
        batch_op.drop_index('ix_comments_replies')
