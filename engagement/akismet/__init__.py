"""Akismet: its REST API (``client``) and the learning reports owed to it (``reports``). Knows no feature:
the comments feature decides when to ask and what to report."""
