"""The `channel` command: Flask's CLI plus our own commands."""
import sys

import click
from flask.cli import FlaskGroup, with_appcontext


def _create_app():
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main():
    """Channel: sales channel management."""


def register_commands(app):
    app.cli.add_command(init_db)
    app.cli.add_command(demo_data)
    app.cli.add_command(users)
    app.cli.add_command(serve)
    app.cli.add_command(scheduler)
    app.cli.add_command(tokens)
    from .reports.cli import reports_cli

    app.cli.add_command(reports_cli)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema (migrate to head)."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("Database is at the latest schema.")


@click.command("demo-data")
@with_appcontext
def demo_data():
    """Load the demo company (idempotent; refuses a database holding real data)."""
    from .demo import DemoDataRefused, load_demo

    try:
        loaded = load_demo()
    except DemoDataRefused as err:
        raise click.ClickException(str(err)) from None
    click.echo("Demo data loaded." if loaded else "Demo data already present; nothing to do.")


@click.group()
def users():
    """Manage users."""


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "finance", "supervisor", "field_staff", "distributor"]))
@click.option("--name", "full_name", help="Full name (default: the username).")
@click.option("--region", "region_codes", multiple=True, help="Region code (supervisor: repeat for several).")
@click.option("--account", "account_code", help="Distributor account code (distributor users).")
@click.option("--kind", "field_kind", type=click.Choice(["rep", "merchandiser", "promoter"]), help="Field staff kind.")
@click.option("--second-approver", is_flag=True,
              help="May give second approvals of expense claims (a manager; supervisor or finance users).")
@with_appcontext
def create_user_command(username, role, full_name, region_codes, account_code, field_kind, second_approver):
    """Create a user; the password is read from standard input, or prompted for."""
    from sqlalchemy import select

    from .auth.services import AuthError, create_user
    from .extensions import db
    from .masterdata.models import Account, Region

    regions = []
    for code in region_codes:
        region = db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none()
        if region is None:
            raise click.ClickException(f"No region with code {code!r}.")
        regions.append(region)
    account = None
    if account_code:
        account = db.session.execute(select(Account).where(Account.code == account_code)).scalar_one_or_none()
        if account is None:
            raise click.ClickException(f"No account with code {account_code!r}.")
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if role == "field_staff" and not field_kind:
        field_kind = "rep"
    try:
        user = create_user(
            username=username, full_name=full_name or username, role=role, password=password,
            by=None, field_kind=field_kind, region=regions[0] if regions and role == "field_staff" else None,
            account=account, supervised=regions if role == "supervisor" else (),
            second_approver=second_approver,
        )
    except AuthError as err:
        db.session.rollback()
        raise click.ClickException(f"User not created: {err.code.replace('_', ' ')}.") from None
    db.session.commit()
    click.echo(f"User {user.username} ({user.role}) created.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host, port, workers):
    """Serve the app with gunicorn (production WSGI server). `channel run` is the dev server."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 60)

        def load(self):
            return _create_app()

    click.echo(f"Channel is serving on http://{host}:{port}/")
    Server().run()


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the job scheduler in the foreground (several may run: one holds the lease and runs
    the jobs, the others stand by)."""
    from flask import current_app

    from reports.scheduler import run

    try:
        run(current_app._get_current_object())
    except RuntimeError as err:
        raise click.ClickException(str(err)) from None


@click.group()
def tokens():
    """API tokens (bearer tokens for /api/v1)."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@with_appcontext
def create_token_command(username, name):
    """Create a token for USERNAME and print it (it is shown only this once)."""
    from .api.services import create_token
    from .auth.services import find_user
    from .extensions import db

    user = find_user(username)
    if user is None or not user.is_active_user:
        raise click.ClickException(f"No active user {username!r}.")
    _, token = create_token(user, name=name)
    db.session.commit()
    click.echo(token)


@tokens.command("list")
@click.argument("username", required=False)
@with_appcontext
def list_tokens_command(username):
    """List tokens (prefix, user, name, created, last used, revoked)."""
    from sqlalchemy import select

    from .api.models import ApiToken
    from .auth.models import User
    from .extensions import db

    stmt = select(ApiToken).join(User).order_by(ApiToken.id)
    if username:
        stmt = stmt.where(User.username == username.lower())
    for row in db.session.execute(stmt).scalars():
        click.echo(f"{row.prefix}…  {row.user.username:16} {row.name:20} created {row.created_at:%Y-%m-%d}  "
                   f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else
                   f"{row.prefix}…  {row.user.username:16} {row.name:20} created {row.created_at:%Y-%m-%d}  never used"
                   + ("  REVOKED" if row.revoked_at else ""))


@tokens.command("revoke")
@click.argument("prefix")
@with_appcontext
def revoke_token_command(prefix):
    """Revoke the token whose printed prefix is PREFIX."""
    from sqlalchemy import select

    from .api.models import ApiToken
    from .api.services import revoke_token
    from .extensions import db

    rows = db.session.execute(select(ApiToken).where(ApiToken.prefix == prefix.rstrip("…"))).scalars().all()
    if len(rows) != 1:
        raise click.ClickException(f"{len(rows)} tokens have the prefix {prefix!r}; give one that names exactly one.")
    revoke_token(rows[0])
    db.session.commit()
    click.echo(f"Token {rows[0].prefix}… of {rows[0].user.username} revoked.")
