"""akismet: a site's encrypted Akismet key, what comment-check was sent per comment, and the learning
reports (submit-spam / submit-ham) owed to Akismet

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 00:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('akismet_key_encrypted', sa.String(length=500), nullable=True))
    op.create_table(
        'akismet_checks',
        sa.Column('comment_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_akismet_checks_comment_id_comments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_akismet_checks_site_id_sites'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_akismet_checks')),
    )
    with op.batch_alter_table('akismet_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_akismet_checks_site_id'), ['site_id'], unique=False)
        batch_op.create_index('ix_akismet_checks_created_at', ['created_at'], unique=False)
    op.create_table(
        'akismet_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_akismet_reports_comment_id_comments'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_akismet_reports')),
        sa.UniqueConstraint('comment_id', 'kind', name='uq_akismet_reports_comment_kind'),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('akismet_reports', schema=None) as batch_op:
        batch_op.create_index('ix_akismet_reports_due', ['status', 'next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('akismet_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_akismet_reports_due')
    op.drop_table('akismet_reports')
    with op.batch_alter_table('akismet_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_akismet_checks_created_at')
        batch_op.drop_index(batch_op.f('ix_akismet_checks_site_id'))
    op.drop_table('akismet_checks')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('akismet_key_encrypted')
