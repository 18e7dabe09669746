"""API tokens: created for a user, stored hashed, revocable."""
import hashlib
import secrets

from sqlalchemy import select

from ..audit.services import record
from ..db_types import utcnow
from ..extensions import db
from .models import ApiToken

TOKEN_PREFIX = "chn_"


def _digest(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough (no password-style stretching).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user, *, name, by=None) -> tuple[ApiToken, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name[:100], prefix=token[:12], token_hash=_digest(token))
    db.session.add(row)
    db.session.flush()
    record("token_created", user, by=by, label=f"{user.username}: {row.prefix}…")
    return row, token


def user_for_token(token: str):
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.execute(select(ApiToken).where(ApiToken.token_hash == _digest(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not row.user.is_active_user:
        return None
    return row


def revoke_token(row: ApiToken, *, by=None):
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record("token_revoked", row.user, by=by, label=f"{row.user.username}: {row.prefix}…")
