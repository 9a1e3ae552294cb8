"""queue indexes: an admin's moderation queue across sites, by status or of every status, newest first,
read from an index instead of sorting every comment

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 00:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_status_created', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_comments_created', ['created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_created')
        batch_op.drop_index('ix_comments_status_created')
