"""Tools shared by the tests and the benchmark: conversations to seed, gunicorn servers on free ports, the
project's documentation as one text.

Not shipped: the Docker image leaves it out and ``engagement`` never imports it. Isso's seeder imports
``devtools.conversations`` from Isso's own virtualenv, so this file and that module use the standard library
only.
"""
