"""Browser fixtures (real Chromium through Playwright) and a live server; loaded by conftest."""
