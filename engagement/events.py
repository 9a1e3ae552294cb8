"""What happens to comments, for whoever must react (mail, caches). Sent inside the transaction of the
change, before its commit, so a receiver that writes (an outbox row) commits or rolls back with it.

Receivers get the app as sender and keyword arguments: ``comment`` (the Comment), ``site`` (its Site).
"""

from blinker import Namespace

_signals = Namespace()

# A comment became visible to readers: approved when posted, or approved later by a moderator.
comment_published = _signals.signal("comment-published")
# A comment was held for moderation by the rules (not spam: spam is never announced).
comment_held = _signals.signal("comment-held")
