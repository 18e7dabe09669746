"""`channel reports generate settlement --period YYYY-MM [--account CODE]`: render from the shell,
in a pool of worker processes, with a progress bar; optionally write the PDFs to a directory."""
import os
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..core.periods import Month
from ..extensions import db
from ..masterdata.models import Account
from . import services
from .models import ReportRun


@click.group("reports")
def reports_cli():
    """Render and export reports."""


def write_atomically(path: Path, data: bytes) -> None:
    """Temporary file, fsync, rename: a crash never leaves a partial PDF under the final name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@reports_cli.command("generate")
@click.argument("kind", type=click.Choice(["settlement"]))
@click.option("--period", required=True, help="A closed month, YYYY-MM.")
@click.option("--account", "account_code", help="Only this account (default: every account with a ledger).")
@click.option("--lang", default=None, help="zh_CN or en (default: the configured report language).")
@click.option("--force", is_flag=True, help="Render again even where nothing changed.")
@click.option("--workers", type=int, default=None, help="Render processes (default: REPORT_WORKERS).")
@click.option("--export", is_flag=True,
              help="Also copy the month's PDFs into REPORTS_DIR/<kind>/<period>/ (or --out).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Copy the month's PDFs into this directory.")
@with_appcontext
def generate_command(kind, period, account_code, lang, force, workers, export, out_dir):
    """Render a month's reports now (closed months only). The archive is the database; the
    copies are for people who want the files on a share."""
    from reports.pool import RenderPool

    config = current_app.config
    try:
        month = Month.parse(period)
    except ValueError:
        raise click.BadParameter("use YYYY-MM, e.g. 2026-10", param_hint="--period") from None
    lang = lang or config["REPORT_LANGUAGE"]
    if lang not in config["LANGUAGES"]:
        raise click.BadParameter(f"one of {', '.join(config['LANGUAGES'])}", param_hint="--lang")
    accounts = None
    if account_code:
        account = db.session.execute(select(Account).where(Account.code == account_code)).scalar_one_or_none()
        if account is None:
            raise click.BadParameter(f"no account {account_code}", param_hint="--account")
        accounts = [account]
    requeued = services.requeue_stale()  # e.g. left by a run of this command that was killed
    try:
        batch = services.request_batch(kind, month, lang, accounts=accounts, force=force)
    except services.ReportError as err:
        raise click.ClickException(str(err)) from None
    db.session.commit()
    batch_id = batch.id
    # Everything queued is rendered, this batch and whatever waited before (the scheduler's
    # queue does the same; a run is claimed by one renderer only).
    total = db.session.execute(select(func.count()).select_from(ReportRun)
                               .where(ReportRun.status == "queued")).scalar_one()
    click.echo(f"{batch.total} to render" + (f", {total - batch.total} queued before" if total > batch.total else "")
               + (f" ({requeued} left by a process that died)" if requeued else ""))
    result = services.QueueResult()
    if total:
        with RenderPool(workers=workers or config["REPORT_WORKERS"], timeout_s=config["REPORT_TIMEOUT_SECONDS"],
                        memory_mb=config["REPORT_MEMORY_MB"]) as pool, \
                click.progressbar(length=total, label=f"{kind} {month}") as bar:
            seen = [0]

            def progress(done, failed):
                bar.update(done + failed - seen[0])
                seen[0] = done + failed

            result = services.process_queue(pool, progress=progress)
        click.echo(f"{result.done} rendered, {result.failed} failed")
        for run in db.session.execute(select(ReportRun).where(ReportRun.batch_id == batch_id,
                                                              ReportRun.status == "failed")).scalars():
            click.echo(f"  {run.account.code}: {run.error}", err=True)
    if export and out_dir is None:
        out_dir = Path(config["REPORTS_DIR"]) / kind / str(month)
    if out_dir is not None:
        _export(out_dir, kind, month, lang, accounts)
    if result.failed:
        raise SystemExit(1)


def _export(out_dir: Path, kind, month, lang, accounts):
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = [a.id for a in accounts] if accounts else [a.id for a in services.settlement_accounts(month)]
    written = 0
    for account_id in ids:
        run = services.latest_run(kind, str(month), account_id, lang)
        if run is not None and run.status == "done":
            write_atomically(out_dir / run.filename, services.pdf_bytes(run))
            written += 1
    click.echo(f"{written} PDFs written to {out_dir}")
