"""edit keys on comments, and ids SQLite never hands out twice

A comment's edit token now carries a random key whose SHA-256 is stored on the comment, so a token
cannot act on another comment with the same id. Every table with a surrogate id gets SQLite's
AUTOINCREMENT (rebuilt: SQLite cannot add it to an existing table), so a deleted highest id is never
given to the next row; PostgreSQL's sequences never go back on their own.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Every table whose primary key is a surrogate "id" when this revision was written.
TABLES_WITH_IDS = (
    'sites', 'threads', 'comments', 'counters', 'counter_history', 'outbox', 'mail_contacts',
    'subscribers', 'bans', 'audit_entries', 'staff_tokens',
)


def upgrade():
    _each_table(autoincrement=True, comments=lambda batch_op: batch_op.add_column(
        sa.Column('edit_key_digest', sa.String(length=64), nullable=True)
    ))


def downgrade():
    _each_table(autoincrement=False, comments=lambda batch_op: batch_op.drop_column('edit_key_digest'))


def _each_table(*, autoincrement, comments):
    """SQLite: rebuild every table with an id, with or without AUTOINCREMENT; everywhere: ``comments``
    applied to the comments table."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES_WITH_IDS:
        if not sqlite and table != 'comments':
            continue
        with op.batch_alter_table(
            table,
            recreate='always' if sqlite else 'auto',
            table_kwargs={'sqlite_autoincrement': autoincrement} if sqlite else {},
        ) as batch_op:
            if table == 'comments':
                comments(batch_op)
