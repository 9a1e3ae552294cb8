"""first-time check index: an approved comment by an email on a site, without reading the site's queue

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_site_email_status', ['site_id', 'author_email', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_site_email_status')
