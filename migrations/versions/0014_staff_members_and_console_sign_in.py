"""staff members and console sign-in: members (tokens may belong to one), console sessions, one-time
sign-in links and the sign-in requests the mail process answers

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 22:10:38

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('console_sign_in_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sign_in_requests')),
    sqlite_autoincrement=True
    )
    op.create_table('staff_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_members')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_members_email')),
    sqlite_autoincrement=True
    )
    op.create_table('console_sign_in_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['staff_members.id'], name=op.f('fk_console_sign_in_links_member_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sign_in_links')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_console_sign_in_links_secret_hash')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('console_sign_in_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sign_in_links_member_id'), ['member_id'], unique=False)

    op.create_table('staff_member_sites',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['staff_members.id'], name=op.f('fk_staff_member_sites_member_id_staff_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_staff_member_sites_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'site_id', name=op.f('pk_staff_member_sites'))
    )
    op.create_table('console_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip_hash', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['staff_members.id'], name=op.f('fk_console_sessions_member_id_staff_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['token_id'], ['staff_tokens.id'], name=op.f('fk_console_sessions_token_id_staff_tokens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sessions')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_console_sessions_secret_hash')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sessions_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_sessions_token_id'), ['token_id'], unique=False)

    with op.batch_alter_table('staff_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_staff_tokens_member_id'), ['member_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_staff_tokens_member_id_staff_members'), 'staff_members', ['member_id'], ['id'], ondelete='CASCADE')



def downgrade():
    with op.batch_alter_table('staff_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_tokens_member_id_staff_members'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_staff_tokens_member_id'))
        batch_op.drop_column('member_id')

    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_token_id'))
        batch_op.drop_index(batch_op.f('ix_console_sessions_member_id'))

    op.drop_table('console_sessions')
    op.drop_table('staff_member_sites')
    with op.batch_alter_table('console_sign_in_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sign_in_links_member_id'))

    op.drop_table('console_sign_in_links')
    op.drop_table('staff_members')
    op.drop_table('console_sign_in_requests')
