"""The migrations build exactly the schema the models describe, on both engines, and go down
and up again cleanly."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from channel.extensions import db

APP_TABLES = {"users", "regions", "accounts", "products", "audit_entries", "login_attempts",
              "settings", "scheduler_heartbeats", "supervisor_regions",
              "documents", "document_lines", "ledger_entries", "periods", "balance_snapshots",
              "document_counters", "api_tokens",
              "scheduler_leases", "job_schedules", "job_runs", "apscheduler_jobs",
              "report_files", "report_batches", "report_runs",
              "reconciliations", "reconciliation_versions", "dispute_items", "dispute_corrections",
              "reconciliation_events", "reconciliation_hold_releases", "notifications", "stored_files",
              "expense_claims", "expense_lines", "expense_receipts", "expense_events", "expense_budgets",
              "plans", "plan_lines", "plan_stock", "plan_versions", "plan_events", "plan_reports",
              "meetings", "meeting_attendees", "meeting_agenda", "meeting_targets", "action_items",
              "promotions", "promotion_products", "promotion_regions", "promotion_enrolments",
              "execution_reports", "execution_photos", "promotion_settlements", "promotion_settlement_lines"}


def _differences(app):
    """What autogenerate would write into a new migration: nothing, if models and schema agree."""
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "render_as_batch": True})
            diffs = compare_metadata(context, db.metadata)
        db.session.remove()
    return diffs


def _tables(app):
    with app.app_context():
        names = set(inspect(db.engine).get_table_names())
        db.session.remove()
    return names


def _version(app):
    with app.app_context():
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        db.session.remove()
    return version


def _head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        [head] = ScriptDirectory.from_config(config).get_heads()
    return head


def _triggers(app):
    """The database-side rules the first migration installs (append-only audit, supplier kind)."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            sql = "SELECT DISTINCT trigger_name FROM information_schema.triggers"
        names = set(db.session.execute(text(sql)).scalars())
        db.session.remove()
    return names


def test_upgrade_builds_the_models_schema(empty_app):
    assert APP_TABLES | {"alembic_version"} == _tables(empty_app)
    assert _version(empty_app) == _head(empty_app)
    assert _differences(empty_app) == []
    assert _triggers(empty_app)


def test_the_comparison_notices_a_difference(empty_app):
    """The control for the tests around it: a schema that drifted is reported."""
    with empty_app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_products_name"))
        db.session.remove()
    diffs = _differences(empty_app)
    assert [d[0] for d in diffs] == ["add_index"]
    assert diffs[0][1].name == "ix_products_name"


def test_downgrade_to_base_and_upgrade_again(empty_app):
    triggers = _triggers(empty_app)
    with empty_app.app_context():
        downgrade(revision="base")
    assert _tables(empty_app) <= {"alembic_version"}
    assert _version(empty_app) is None
    assert _triggers(empty_app) == set()
    with empty_app.app_context():
        upgrade()
    assert APP_TABLES <= _tables(empty_app)
    assert _version(empty_app) == _head(empty_app)
    assert _triggers(empty_app) == triggers
    assert _differences(empty_app) == []


def test_audit_log_is_append_only_in_the_database(app):
    """One of the rules the migration puts in the database itself, checked on both engines."""
    with app.app_context():
        with db.engine.connect() as conn:
            for sql in ("UPDATE audit_entries SET action = 'x'", "DELETE FROM audit_entries"):
                trans = conn.begin()
                try:
                    with pytest.raises(DBAPIError):
                        conn.execute(text(sql))
                finally:
                    trans.rollback()
        assert db.session.execute(text("SELECT count(*) FROM audit_entries")).scalar_one() >= 1
        db.session.remove()
