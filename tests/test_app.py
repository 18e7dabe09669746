"""The app factory and configuration (no database rows needed)."""
import sqlite3

import pytest
from sqlalchemy import text

from channel import create_app
from channel.extensions import db
from config import ProductionConfig, TestingConfig


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("CHANNEL_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="CHANNEL_SECRET_KEY"):
        create_app(ProductionConfig, DATABASE_URL=f"sqlite:///{tmp_path}/x.db")


def test_settings_come_from_prefixed_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CHANNEL_SECRET_KEY", "from-the-environment-0123456789")
    monkeypatch.setenv("CHANNEL_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("CHANNEL_REPORTS_DIR", str(tmp_path / "rep"))
    app = create_app(ProductionConfig)
    assert app.config["SECRET_KEY"] == "from-the-environment-0123456789"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"
    assert app.config["REPORTS_DIR"] == str(tmp_path / "rep")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_default_database_is_sqlite_in_instance_folder(monkeypatch):
    monkeypatch.delenv("CHANNEL_DATABASE_URL", raising=False)
    app = create_app(TestingConfig)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + app.instance_path + "/channel.db"


def test_sqlite_connections_have_wal_and_foreign_keys(tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=f"sqlite:///{tmp_path}/p.db")
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        db.engine.dispose()
    assert sqlite3.connect(tmp_path / "p.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_static_assets_are_served_by_the_app():
    app = create_app(TestingConfig)
    client = app.test_client()
    for path in ("/static/css/app.css", "/static/js/app.js", "/static/favicon.svg"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        resp.close()


def test_templates_reference_no_external_assets():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent / "templates"
    for path in root.rglob("*.html"):
        body = path.read_text(encoding="utf-8")
        assert not re.search(r'(src|href)="(https?:)?//', body), f"external asset in {path}"
