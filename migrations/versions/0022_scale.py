"""scale: indexes that match every listing and sort, emails stored lower-cased, full-text search

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 12:20:00

A thread's public pages, the staff queue (all statuses, thread=, email=) and the per-thread feed each get
an index that serves its order, so a page is one index range however big the site or thread. Emails are
lower-cased in place (the comment form already stored them so; imports kept what the file had) and their
indexes lead by the email, so equality finds them without lower(). Search: engagement.search.
"""
from alembic import op

from engagement import search

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE comments SET author_email = lower(author_email) WHERE author_email <> lower(author_email)")
    op.drop_index('ix_comments_thread_listing', table_name='comments')
    op.drop_index('ix_comments_site_email', table_name='comments')
    op.drop_index('ix_comments_site_email_status', table_name='comments')
    op.create_index('ix_comments_thread_top', 'comments', ['thread_id', 'depth', 'pinned', 'created_at', 'id', 'status'])
    op.create_index('ix_comments_thread_top_likes', 'comments', ['thread_id', 'depth', 'pinned', 'likes', 'id', 'status'])
    op.create_index('ix_comments_thread_created', 'comments', ['thread_id', 'created_at', 'id', 'status'])
    op.create_index('ix_comments_site_created', 'comments', ['site_id', 'created_at', 'id'])
    op.create_index('ix_comments_email_site', 'comments', ['author_email', 'site_id', 'created_at'])
    op.create_index('ix_comments_email_site_status', 'comments', ['author_email', 'site_id', 'status'])
    if op.get_bind().dialect.name == 'postgresql':
        for statement in search.PG_DDL:
            op.execute(statement)
    else:
        for statement in search.fts_ddl():
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for statement in search.PG_DROP:
            op.execute(statement)
    else:
        for statement in search.fts_drop():
            op.execute(statement)
    op.drop_index('ix_comments_email_site_status', table_name='comments')
    op.drop_index('ix_comments_email_site', table_name='comments')
    op.drop_index('ix_comments_site_created', table_name='comments')
    op.drop_index('ix_comments_thread_created', table_name='comments')
    op.drop_index('ix_comments_thread_top_likes', table_name='comments')
    op.drop_index('ix_comments_thread_top', table_name='comments')
    op.create_index('ix_comments_site_email_status', 'comments', ['site_id', 'author_email', 'status'])
    op.create_index('ix_comments_site_email', 'comments', ['site_id', 'author_email', 'created_at'])
    op.create_index('ix_comments_thread_listing', 'comments', ['thread_id', 'depth', 'status', 'created_at', 'id'])
