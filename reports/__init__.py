"""PDF rendering and scheduled report jobs."""
