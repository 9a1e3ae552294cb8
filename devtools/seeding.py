"""Seed conversations into the service through ``post_comment``, as readers would post them."""

from __future__ import annotations

from devtools.conversations import SeedComment
from engagement.comments.drafts import Client, NewComment
from engagement.comments.service import post_comment
from engagement.models import Site


def post_conversation(site: Site, key: str, comments: list[SeedComment]) -> None:
    """Post ``comments`` to thread ``key`` in order, each reply to the comment its ``parent`` names."""
    ids: list[int] = []
    for comment in comments:
        posted = post_comment(
            site=site,
            draft=NewComment(
                thread_key=key,
                thread_title=f"Article {key}",
                parent_id=ids[comment.parent] if comment.parent is not None else None,
                author_name=comment.author,
                author_email=comment.email,
                body=comment.body,
            ),
            client=Client(ip=None, user_agent="bench-seed"),
        )
        ids.append(posted.comment.id)
