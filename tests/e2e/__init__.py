"""Browser journeys in headless Chromium (Playwright), against a live server on SQLite."""
