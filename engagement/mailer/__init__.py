"""Sending mail: the outbox every message goes through, its delivery (``send-mail``), signed links and the
pages they open. Infrastructure for the features that mail someone (subscriptions and reply
notifications, moderator alerts, privacy requests); it knows none of them."""
