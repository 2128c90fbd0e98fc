"""The `tracker` command: serve, migrate, demo, bench-data, reindex, create-user, import, export, backup, clocks,
dispatch."""

from __future__ import annotations

import getpass
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.engine import make_url

from tracker.core.clock import utcnow
from tracker.settings import ROOT, Settings, get_settings

if TYPE_CHECKING:
    from tracker.dispatch.service import Dispatcher


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["configure_logging"] = False
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate_database(url: str | None = None) -> None:
    from alembic import command

    url = url or get_settings().database_url
    if url.startswith("sqlite:///"):
        Path(make_url(url).database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")


@click.group()
def main() -> None:
    """Contractor deliverable acceptance, risk and issue register, status reports."""


@main.command()
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    click.echo("Bringing the database schema up to date…")
    migrate_database()
    click.echo("Database is at the latest schema.")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from TRACKER_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default from TRACKER_PORT, 8000).")
@click.option("--workers", default=None, type=int, help="Worker processes (default from TRACKER_WORKERS, 1).")
@click.option("--reload", is_flag=True, help="Reload on code changes (development).")
def serve(host: str | None, port: int | None, workers: int | None, reload: bool) -> None:
    """Run the web server (uvicorn), and the dispatcher every TRACKER_DISPATCH_SECONDS in this process only (the
    workers' app has none). Run `tracker migrate` first."""
    import uvicorn

    settings = get_settings()
    host, port, workers = host or settings.host, port or settings.port, workers or settings.workers
    click.echo(f"Tracker is running at http://{host}:{port}/  (Ctrl+C to stop)")
    with _dispatcher(settings) as run:
        stop = run.start(settings.dispatch_seconds) if settings.dispatch_seconds > 0 else None
        try:
            uvicorn.run(
                "tracker.app:app_factory",
                factory=True,
                host=host,
                port=port,
                workers=None if reload else workers,
                reload=reload,
                log_level="warning",
                access_log=False,
                proxy_headers=False,
            )
        finally:
            if stop is not None:
                stop.set()


def _migrate(url: str, reset: bool) -> None:
    """Bring the schema to the latest revision; with `reset`, take every table down first (all data is lost)."""
    if reset:
        from alembic import command

        command.downgrade(alembic_config(url), "base")
    migrate_database(url)


@main.command()
@click.option("--reset", is_flag=True, help="Erase the database first (all data is lost).")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no users yet.")
def demo(reset: bool, if_empty: bool) -> None:
    """Load a realistic demo portfolio and print the demo logins."""
    from tracker.demo import portfolio

    settings = get_settings()
    click.echo("Bringing the database schema up to date…")
    _migrate(settings.database_url, reset)
    click.echo("Loading the demo portfolio (about half a minute):")
    loaded = portfolio.load(settings.database_url, only_if_empty=if_empty or not reset, say=click.echo)
    click.echo("Demo data loaded." if loaded else "The database already has data; demo not loaded again.")
    click.echo(portfolio.logins_text())


@main.command("bench-data")
@click.option(
    "--scale",
    type=click.Choice(["huge", "large", "small", "tiny"]),
    default="large",
    show_default=True,
    help="large: 25 projects, 5,000 deliverables, 1,000,000 audit events; small: a tenth of each; huge (minutes): "
    "250 projects, 50,000 deliverables, 150,000 risks and issues, 10,000,000 audit events around the same largest "
    "project.",
)
@click.option("--reset", is_flag=True, help="Erase the database first (all data is lost).")
def bench_data(scale: str, reset: bool) -> None:
    """Fill the database with the benchmark portfolio and print the logins and the largest project's ids."""
    from tracker.core.files import FileStore
    from tracker.demo.bench import generate

    settings = get_settings()
    _migrate(settings.database_url, reset)
    try:
        generate.run(settings.database_url, generate.SCALES[scale], FileStore.from_settings(settings), click.echo)
    except generate.NotEmpty as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(generate.logins_text(settings.database_url))


@main.command()
def reindex() -> None:
    """Rebuild the search index from the records (the app keeps it current; run this after restoring or loading
    rows some other way)."""
    from tracker.core.db import make_engine
    from tracker.search import index

    engine = make_engine(get_settings().database_url)
    try:
        with engine.begin() as conn:
            index.reindex(conn)
            rows = conn.exec_driver_sql("SELECT count(*) FROM search_index").scalar_one()
    finally:
        engine.dispose()
    click.echo(f"Search index rebuilt: {rows:,} records.")


@main.command("create-user")
@click.argument("username")
@click.option("--full-name", required=True)
@click.option("--email", required=True)
@click.option("--organization", default="")
@click.option("--admin", is_flag=True, help="Make the user an admin.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
def create_user(
    username: str, full_name: str, email: str, organization: str, admin: bool, password_stdin: bool
) -> None:
    """Create a user (e.g. the first admin)."""
    from tracker.accounts import service
    from tracker.core.db import make_engine, session_factory_for
    from tracker.core.errors import FormError
    from tracker.core.forms import parse

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise click.ClickException("The passwords differ.")
    engine = make_engine(get_settings().database_url)
    with session_factory_for(engine)() as db:
        try:
            form = parse(
                service.UserForm,
                {
                    "username": username,
                    "full_name": full_name,
                    "email": email,
                    "organization": organization,
                    "is_admin": admin,
                    "password": password,
                },
            )
            user = service.create_user(db, None, form)
        except FormError as exc:
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from exc
        db.commit()
        click.echo(f"Created user {user.username} (id {user.id}){' with admin rights' if admin else ''}.")
    engine.dispose()


@main.command()
@click.argument("destination", type=click.Path(dir_okay=True, path_type=Path), required=False)
def backup(destination: Path | None) -> None:
    """Write a consistent copy of the database while the app keeps running.

    SQLite: an online backup (sqlite3 backup API) checked with PRAGMA integrity_check.
    PostgreSQL: runs pg_dump when it is installed; otherwise prints how to.
    """
    settings = get_settings()
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        destination = destination or ROOT / "var" / "backups" / f"tracker-{stamp}.db"
        if destination.is_dir():
            destination = destination / f"tracker-{stamp}.db"
        destination.parent.mkdir(parents=True, exist_ok=True)
        size = backup_sqlite(Path(url.database), destination)
        click.echo(f"Backed up to {destination} ({size:,} bytes); integrity check passed.")
        click.echo(f"Restore: stop the app, then `tracker restore {destination}`.")
        return
    destination = destination or ROOT / "var" / "backups" / f"tracker-{stamp}.dump"
    if destination.is_dir():
        destination = destination / f"tracker-{stamp}.dump"
    libpq_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    if shutil.which("pg_dump") is None:
        click.echo("pg_dump is not installed. Install the PostgreSQL client and run:")
        click.echo(f"  pg_dump --format=custom --file={destination} '{url.set(drivername='postgresql')}'")
        click.echo("Restore with: tracker restore <file>")
        raise SystemExit(2)
    destination.parent.mkdir(parents=True, exist_ok=True)
    # pg_dump runs in one repeatable-read snapshot, so the copy is consistent while writes go on.
    subprocess.run(["pg_dump", "--format=custom", f"--file={destination}", libpq_url], check=True)
    click.echo(f"Backed up to {destination}. Restore: stop the app, then `tracker restore {destination}`.")


def backup_sqlite(source: Path, destination: Path) -> int:
    tmp = destination.with_suffix(destination.suffix + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(tmp)
    try:
        # One step, in one read transaction: a consistent moment, and a copy that never restarts however
        # busy the writers are (stepwise copies start over whenever another connection writes).
        src.backup(dst, pages=-1)
        result = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise click.ClickException(f"The copy failed its integrity check: {result}")
    finally:
        dst.close()
        src.close()
    tmp.replace(destination)
    return destination.stat().st_size


@contextmanager
def _dispatcher(settings: Settings) -> Iterator[Dispatcher]:
    """The dispatcher with every handler and job (tracker.side_effects), on an engine of the command's own."""
    from tracker import side_effects
    from tracker.core.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        yield side_effects.dispatcher(engine, settings)
    finally:
        engine.dispose()


@main.command()
@click.option("--once", is_flag=True, help="Run one pass and exit.")
def dispatch(once: bool) -> None:
    """Run the dispatcher: the jobs that are due (the contract clock) and the effects of new audit events. Without
    --once, pass after pass every TRACKER_DISPATCH_SECONDS until stopped (as `tracker serve` does)."""
    settings = get_settings()
    if not once and settings.dispatch_seconds <= 0:
        raise click.ClickException("TRACKER_DISPATCH_SECONDS is 0: give --once, or a number of seconds.")
    with _dispatcher(settings) as run:
        if once:
            click.echo(run.once().summary())
            return
        click.echo(f"Dispatching every {settings.dispatch_seconds:g} s (Ctrl+C to stop).")
        with suppress(KeyboardInterrupt):
            run.loop(settings.dispatch_seconds, threading.Event())


@main.command()
def clocks() -> None:
    """Apply the contract clocks now: deemed acceptance and review escalation, then render any decision's letters a
    stopped server left unrendered (the dispatcher also does this every few minutes)."""
    from tracker.core.db import make_engine, session_factory_for
    from tracker.core.files import FileStore
    from tracker.deliverables import clock

    settings = get_settings()
    engine = make_engine(settings.database_url)
    with session_factory_for(engine)() as db:
        run = clock.apply(db, FileStore.from_settings(settings))
    engine.dispose()
    click.echo(clock.summary(run))


@main.command("import")
@click.argument("project")
@click.argument("register", type=click.Choice(["risks", "issues", "changes", "lessons", "decisions", "meetings"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", required=True, help="The manager or staff member the import is recorded as.")
@click.option("--only-valid", is_flag=True, help="Import the valid rows even when others have errors.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def import_register(project: str, register: str, file: Path, username: str, only_valid: bool, dry_run: bool) -> None:
    """Import a risk or issue register from an XLSX or CSV file (columns matched by their headers)."""
    from sqlmodel import select

    from tracker.accounts.models import User
    from tracker.accounts.service import principal
    from tracker.core.db import make_engine, session_factory_for
    from tracker.core.errors import AppError
    from tracker.core.spreadsheet import read_table
    from tracker.projects import service as projects
    from tracker.search import index  # noqa: F401  its hook indexes the imported rows as they are written
    from tracker.transfer import service as transfer
    from tracker.transfer.columns import REGISTERS

    engine = make_engine(get_settings().database_url)
    try:
        with session_factory_for(engine)() as db:
            user = db.exec(select(User).where(User.username == username)).first()
            if user is None:
                raise click.ClickException(f"No user {username}.")
            actor = principal(user)
            try:
                access = projects.get_for(db, actor, project, projects.Perm.EDIT_REGISTER)
                reg = REGISTERS[register]
                sheet = read_table(file.name, file.read_bytes())
                plan = transfer.build_plan(db, access, reg, sheet, transfer.auto_mapping(reg, sheet.headers))
                click.echo(
                    "Columns: "
                    + ", ".join(
                        f"{h} → {reg.column(plan.mapping[i]).header}"
                        for i, h in enumerate(sheet.headers)
                        if i in plan.mapping
                    )
                )
                if plan.unrecognised:
                    click.echo("Not recognised, so not imported: " + ", ".join(plan.unrecognised))
                for row in plan.invalid:
                    for header, message in row.errors.items():
                        click.echo(f"Row {row.number}, {header}: {message}", err=True)
                click.echo(
                    f"{len(plan.rows)} rows: {plan.count('create')} new, {plan.count('update')} to update, "
                    f"{plan.count('unchanged')} unchanged, {len(plan.invalid)} with errors."
                )
                if dry_run:
                    return
                written = transfer.run(db, actor, access, plan, only_valid=only_valid, filename=file.name)
            except AppError as exc:
                details = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "errors", {}).items() if k != "rows")
                raise click.ClickException(f"{exc.detail} {details}".strip()) from None
            db.commit()
            click.echo(f"Imported {len(written)} {register} into {access.project.key}.")
    finally:
        engine.dispose()


@main.command("export")
@click.argument("project")
@click.argument("register", type=click.Choice(["risks", "issues", "changes", "lessons", "decisions", "meetings"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_register(project: str, register: str, file: Path) -> None:
    """Write a project's whole risk or issue register to FILE (.xlsx or .csv), with the columns import reads."""
    from sqlmodel import select

    from tracker.core.db import make_engine, session_factory_for
    from tracker.projects.models import Project
    from tracker.projects.service import Access, perms_for
    from tracker.transfer import service as transfer
    from tracker.transfer.columns import REGISTERS

    fmt = file.suffix.lower().lstrip(".")
    if fmt not in transfer.FORMATS:
        raise click.ClickException("Name the file .xlsx or .csv.")
    engine = make_engine(get_settings().database_url)
    try:
        with session_factory_for(engine)() as db:
            row = db.exec(select(Project).where(Project.key == project.upper())).first()
            if row is None:
                raise click.ClickException(f"No project {project}.")
            access = Access(row, None, True, perms_for(None, True))  # the operator reads as an admin would
            body, _, _ = transfer.export_file(db, access, REGISTERS[register], None, fmt)
    finally:
        engine.dispose()
    file.write_bytes(body)
    click.echo(f"Wrote the {register} of {row.key} to {file}.")


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore(source: Path, force: bool) -> None:
    """Restore a backup made by `tracker backup` into the database DATABASE_URL names. Stop the app first.

    SQLite: the copy is checked with PRAGMA integrity_check, then written page by page over the database.
    PostgreSQL: pg_restore of the pg_dump file.
    """
    from sqlalchemy import inspect

    from tracker.core.db import make_engine

    url = make_url(get_settings().database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url.render_as_string(hide_password=False))
    has_data = "alembic_version" in inspect(engine).get_table_names()
    engine.dispose()
    if has_data and not force:
        raise click.ClickException(f"{url.render_as_string()} already holds a database; add --force to replace it.")
    if url.get_backend_name() == "sqlite":
        restore_sqlite(source, Path(url.database))
    else:
        libpq_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={libpq_url}",
                str(source),
            ],
            check=True,
        )
    click.echo(f"Restored {source} into {url.render_as_string()}.")


def restore_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        result = src.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise click.ClickException(f"{source} failed its integrity check: {result}")
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


if __name__ == "__main__":
    main()
