"""The `channel` command: init-db, demo-data and users create."""
import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text

from channel.auth.models import User
from channel.cli import main
from channel.demo import DISTRIBUTORS, DEALERS, PRODUCTS, REGIONS, USERS
from channel.extensions import db
from channel.masterdata.models import Account, Product, Region

from .conftest import _testing_app, app_on
from .helpers import EN, location_path, shared_demo_app  # noqa: F401  (fixture)

STRONG = "Vermilion-Kettle-42"


def _count(app, model):
    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(model)).scalar_one()
        db.session.remove()
    return n


@pytest.fixture
def blank_app(request, engine, tmp_path):
    """An app on a database with nothing in it: not even the schema."""
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'blank.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        url = server.create_database(f"blank_{tmp_path.name[-20:].replace('-', '_')}")
    yield from app_on(request, engine, url)


def test_init_db_creates_the_schema_and_can_run_again(blank_app):
    runner = blank_app.test_cli_runner()
    with blank_app.app_context():
        assert inspect(db.engine).get_table_names() == []
    for _ in range(2):  # a second run finds the schema at head and does nothing
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "Database is at the latest schema." in result.output
    with blank_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "regions", "accounts", "products", "audit_entries", "login_attempts",
                "alembic_version"} <= tables
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        db.session.remove()
        config = blank_app.extensions["migrate"].migrate.get_config()
        assert [version] == ScriptDirectory.from_config(config).get_heads()


def test_demo_data_loads_once(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    counts = {m: _count(empty_app, m) for m in (User, Region, Account, Product)}
    assert counts == {User: len(USERS), Region: len(REGIONS), Account: len(DISTRIBUTORS) + len(DEALERS),
                      Product: len(PRODUCTS)}

    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert "Demo data already present; nothing to do." in result.output
    assert {m: _count(empty_app, m) for m in counts} == counts

    client = empty_app.test_client().login("sup.north")  # the demo password works
    assert client.get("/dashboard").status_code == 200


def test_demo_data_refuses_a_database_with_other_data(empty_app):
    with empty_app.app_context():
        db.session.add(Region(code="REAL", name="真实区域"))
        db.session.commit()
    result = empty_app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 1
    assert "already holds data that is not demo data" in result.output
    assert _count(empty_app, Region) == 1
    assert _count(empty_app, User) == 0 and _count(empty_app, Account) == 0


def _create(app, *args, password=STRONG):
    return app.test_cli_runner().invoke(args=["users", "create", *args], input=password + "\n")


@pytest.mark.parametrize(("args", "check"), [
    (["sup.west", "--role", "supervisor", "--region", "SOUTH", "--region", "EAST", "--name", "西区主管"],
     lambda u: (u.full_name, sorted(r.code for r in u.supervised_regions)) == ("西区主管", ["EAST", "SOUTH"])),
    (["merch.bj", "--role", "field_staff", "--region", "BJ", "--kind", "merchandiser"],
     lambda u: (u.region.code, u.field_kind) == ("BJ", "merchandiser")),
    (["rep.tj", "--role", "field_staff", "--region", "TJ"],
     lambda u: (u.region.code, u.field_kind) == ("TJ", "rep")),  # a rep unless told otherwise
    (["dist.sh2", "--role", "distributor", "--account", "GD-SH01"],
     lambda u: u.account.code == "GD-SH01"),
    (["Boss", "--role", "admin"], lambda u: u.username == "boss"),
], ids=["supervisor", "merchandiser", "rep", "distributor", "admin"])
def test_users_create_reads_the_password_from_stdin(app, args, check):
    result = _create(app, *args)
    assert result.exit_code == 0, result.output
    username = args[0].lower()
    assert f"User {username} (" in result.output and "created." in result.output
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        assert check(user)
        assert STRONG not in user.password_hash
        db.session.remove()
    client = app.test_client()
    resp = client.post_form("/login", {"username": username, "password": STRONG}, headers=EN)
    assert resp.status_code == 302 and location_path(resp) == "/dashboard"


@pytest.mark.parametrize(("args", "password", "message"), [
    (["weak", "--role", "admin"], "password123", "User not created: common."),
    (["short", "--role", "admin"], "Ab1-x", "User not created: too short."),
    (["nowhere", "--role", "supervisor", "--region", "NOPE"], STRONG, "No region with code 'NOPE'."),
    (["nowhere", "--role", "field_staff", "--region", "bj"], STRONG, "No region with code 'bj'."),
    (["noacct", "--role", "distributor", "--account", "GD-XX99"], STRONG, "No account with code 'GD-XX99'."),
    (["dealer.user", "--role", "distributor", "--account", "DL-BJ001"], STRONG,
     "User not created: distributor needs account."),
    (["lonely", "--role", "supervisor"], STRONG, "User not created: supervisor needs region."),
    (["Sup.North", "--role", "admin"], STRONG, "User not created: username taken."),
], ids=["weak", "short", "unknown-region", "region-code-case", "unknown-account", "dealer-account",
        "supervisor-without-region", "taken"])
def test_users_create_refuses(shared_demo_app, args, password, message):
    app = shared_demo_app
    users_before = _count(app, User)
    result = _create(app, *args, password=password)
    assert result.exit_code == 1
    assert message in result.output
    assert _count(app, User) == users_before


def test_users_create_refuses_an_unknown_role(shared_demo_app):
    result = _create(shared_demo_app, "x.user", "--role", "boss")
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output


def test_channel_command_on_a_fresh_sqlite_file(tmp_path):
    """The installed `channel` command, configured only by environment variables."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {"CHANNEL_ENV": "testing", "CHANNEL_DATABASE_URL": url, "FLASK_APP": ""}
    runner = CliRunner()
    result = runner.invoke(main, ["init-db"], env=env)
    assert result.exit_code == 0, result.output
    assert "Database is at the latest schema." in result.output
    result = runner.invoke(main, ["demo-data"], env=env)
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    result = runner.invoke(main, ["users", "create", "cli.admin", "--role", "admin"], input=STRONG + "\n", env=env)
    assert result.exit_code == 0, result.output
    app = _testing_app(url)
    try:
        assert _count(app, User) == len(USERS) + 1
    finally:
        with app.app_context():
            db.engine.dispose()
