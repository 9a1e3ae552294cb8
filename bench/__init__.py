"""`make bench`: the service, Isso 0.14 and a Flask hello app under gunicorn, driven by wrk (see README)."""
