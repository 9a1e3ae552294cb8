"""privacy requests: asked for by the public form, answered by the mail process, named by the link

The form stores the request and answers at once, so it costs the same for every address; the mail
process looks the address up and mails a link that carries only the request's id (never the address).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:18:42.449919

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('privacy_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_privacy_requests_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_privacy_requests_dedupe_key')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.create_index('ix_privacy_requests_status', ['status', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_privacy_requests_status')

    op.drop_table('privacy_requests')
