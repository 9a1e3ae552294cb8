"""Helpers shared by tests and the benchmark; not part of the service and not shipped."""
