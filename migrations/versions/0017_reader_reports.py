"""reader reports: readers flag approved comments; enough distinct reporters hold one for a moderator

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 00:35:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('reporter', sa.String(length=64), nullable=False),
        sa.Column('ip_hash', sa.String(length=64), nullable=True),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('dismissed_by', sa.String(length=200), nullable=True),
        sa.Column('upheld_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('comment_id', 'reporter'),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_site_reporter', ['site_id', 'reporter'], unique=False)
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_reports', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(
            'ix_comments_reported',
            ['open_reports', 'id'],
            unique=False,
            sqlite_where=sa.text('open_reports > 0'),
            postgresql_where=sa.text('open_reports > 0'),
        )


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_reported')
        batch_op.drop_column('open_reports')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_site_reporter')
    op.drop_table('reports')
