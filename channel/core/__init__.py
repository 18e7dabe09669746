"""The pure core: plain Python with no Flask, no database and no users."""
