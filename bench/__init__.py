"""`make bench` (docs/benchmarks.md): the service, Isso 0.14 and a Flask hello app on gunicorn, with wrk."""
