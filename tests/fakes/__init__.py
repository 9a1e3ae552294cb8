"""Local stand-ins for the outside services the service talks to, each a real server on 127.0.0.1."""
