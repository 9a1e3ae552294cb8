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
# comment, site, before, after (statuses), actor: staff moved a comment from one status to another (through
# moderation's ``transition``). Comments reports the decision to Akismet when it disagrees with Akismet.
comment_status_changed = _signals.signal("comment-status-changed")
# comment, site, reporters (distinct, counting): enough readers reported an approved comment. Moderation
# holds it (pending, reason ``reports``), which takes it out of the thread and alerts the moderators.
reports_threshold_reached = _signals.signal("reports-threshold-reached")
# comment, site: a reader posted a comment that is not spam (approved or held). Webhooks announce it.
comment_posted = _signals.signal("comment-posted")
# comment, site: its author edited a comment (its status may have changed with it). Webhooks announce it.
comment_edited = _signals.signal("comment-edited")
# comment, site: its author deleted a comment. Webhooks announce it.
comment_deleted = _signals.signal("comment-deleted")
# comment, site, reason: a reader reported a comment (a first report by that reader). Webhooks announce it.
comment_reported = _signals.signal("comment-reported")
# site, target, kind (CounterKind), count (or None when not read): a counter's value changed. Webhooks
# announce it.
counter_changed = _signals.signal("counter-changed")
# site, key: staff closed a thread. Webhooks announce it.
thread_closed = _signals.signal("thread-closed")
# site, thread (threads.ThreadForPosting), email, language (the reader's, or None): a reader ticked
# "notify me of replies" with a comment that is not spam. Mail records the opt-in and asks the address
# to confirm, in that language.
reply_notifications_requested = _signals.signal("reply-notifications-requested")
# site, target, delta (+1 or -1): an email subscription was confirmed, or a confirmed one ended (an
# unsubscribe, an erasure). Counters count it in the target's native subscribers.
subscription_counted = _signals.signal("subscription-counted")
# site, counter (target, kind, native_count, updated_at, sources, history as the export holds them): a
# JSON restore read a counter. Counters writes it, so it stays the only writer of counters and their caches.
counter_restored = _signals.signal("counter-restored")
# site, readers (target, kind, reader_hash, created_at each): a JSON restore read readers' likes and follows.
counter_readers_restored = _signals.signal("counter-readers-restored")
