"""comments: a body digest for the duplicate rule, and addresses stored lower-cased

The duplicate rule compares bodies as engagement.normalization folds them (NFKC, case-folded, invisible
characters removed, whitespace collapsed), by a SHA-256 stored with each comment; the flood, duplicate
and first-time rules and privacy requests compare addresses, now stored lower-cased. Existing rows are
brought in step here, in batches.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 17:50:00

"""
import hashlib
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BATCH = 1000
# engagement.normalization as of this revision (a migration must not change when the app does; a test
# checks that the two agree).
_INVISIBLE = re.compile(r"[\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f]|[\U000e0100-\U000e01ef]")
_WHITESPACE = re.compile(r"\s+")


def fold(text):
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    text = _INVISIBLE.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def body_digest(body):
    folded = fold(body)
    return hashlib.sha256(folded.encode()).hexdigest() if folded else None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_digest', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    comments = sa.table(
        'comments', sa.column('id', sa.Integer), sa.column('body', sa.Text),
        sa.column('author_email', sa.String), sa.column('body_digest', sa.String),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(comments.c.id, comments.c.body, comments.c.author_email)
            .where(comments.c.id > last).order_by(comments.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            comments.update().where(comments.c.id == sa.bindparam('row_id')).values(
                body_digest=sa.bindparam('digest'), author_email=sa.bindparam('email')
            ),
            [{'row_id': id_, 'digest': body_digest(body or ''), 'email': (email or '').lower()}
             for id_, body, email in rows],
        )
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('body_digest')
