"""What happens in one feature that another must react to, as signals, so no feature imports another.

Sent inside the transaction of the change, before its commit, so a receiver that writes (an outbox row, a
counter) commits or rolls back with it. Receivers get the app as sender and the keyword arguments each
signal lists; each feature connects its receivers in its ``init_app``.
"""

from blinker import Namespace

_signals = Namespace()

# comment (the Comment), site: a comment became visible to readers, approved when posted or later by a
# moderator. Mail sends the reply notifications it owes.
comment_published = _signals.signal("comment-published")
# comment, site: the rules held a comment for moderation (spam is never announced). Moderation alerts
# the site's moderators.
comment_held = _signals.signal("comment-held")
# site, thread (threads.ThreadForPosting), email: a reader ticked "notify me of replies" with a comment
# that is not spam. Mail records the opt-in and asks the address to confirm.
reply_notifications_requested = _signals.signal("reply-notifications-requested")
# site, target, delta (+1 or -1): an email subscription was confirmed, or a confirmed one ended (an
# unsubscribe, an erasure). Counters count it in the target's native subscribers.
subscription_counted = _signals.signal("subscription-counted")
