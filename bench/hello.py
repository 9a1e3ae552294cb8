"""The ceiling: the smallest Flask app, under the same gunicorn config as the service."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
