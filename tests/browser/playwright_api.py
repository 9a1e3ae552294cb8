"""Playwright for Python, as the browser tests import it: when it is not installed, the importing test module
is skipped, except in CI (``CI=true``), where a missing service is a failure."""

from __future__ import annotations

import pytest

from tests.services import in_ci

try:
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, Route, expect
except ImportError:
    if in_ci():
        raise
    pytest.skip("Playwright for Python is not installed", allow_module_level=True)

__all__ = ["Browser", "ConsoleMessage", "Locator", "Page", "Request", "Route", "expect"]
