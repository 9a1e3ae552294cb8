"""moderator alert windows: at most one alert mail per address per site every 5 minutes, with a digest

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moderator_alert_windows',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('digest_comment_ids', sa.JSON(), nullable=False),
    sa.Column('digest_unlisted', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_moderator_alert_windows_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'address_hash', name=op.f('pk_moderator_alert_windows'))
    )


def downgrade():
    op.drop_table('moderator_alert_windows')
