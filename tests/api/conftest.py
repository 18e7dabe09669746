import pytest

from channel.api.services import create_token
from channel.auth.services import find_user
from channel.extensions import db


@pytest.fixture
def token(app):
    """token("finance") -> request headers with a fresh API token of that demo user."""
    made = {}

    def _token(username):
        if username not in made:
            with app.app_context():
                _, made[username] = create_token(find_user(username), name="test")
                db.session.commit()
        return {"Authorization": f"Bearer {made[username]}", "Accept-Language": "en"}

    return _token
