"""``exchange hub serve``: run the hub (FastAPI on uvicorn)."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from exchange.cli.common import BodiesOpt, KeysOpt, parse_time, settings
from exchange.clock import ClockFile, clock_from_option
from exchange.errors import InputError, InputFileError
from exchange.pki import KeyStore
from exchange.pki.tls import server_certificate

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from exchange.hub.settings import HubSettings

app = typer.Typer(help="The hub: the exchange server every document passes through.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    db: Annotated[str | None, typer.Option("--db", help="database URL [env EXCHANGE_DB; SQLite in --data]")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="data directory [env EXCHANGE_DATA, default data]")] = None,
    keys: KeysOpt = None,
    bodies: BodiesOpt = None,
    max_upload_mib: Annotated[int, typer.Option("--max-upload-mib", help="upload size limit")] = 50,
    training: Annotated[bool, typer.Option("--training", help="enable the trainer's buttons on the web pages")] = False,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
    tls: Annotated[bool, typer.Option(
        "--tls", help="serve HTTPS only, with a certificate from the demo PKI (issued now, SAN localhost, "
        "127.0.0.1 and --host)")] = False,
    mtls: Annotated[bool, typer.Option(
        "--mtls", help="with --tls: require a TLS client certificate from the demo PKI and bind it to the "
        "token")] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    checkpoint_interval: Annotated[float, typer.Option(
        "--checkpoint-interval", help="seconds: the most often a new log checkpoint is signed")] = 2.0,
    durable: Annotated[bool, typer.Option("--durable/--no-durable", help="fsync blobs and database commits "
                                          "before acknowledging (--no-durable: benchmarks only; a power cut "
                                          "may lose acknowledged documents)")] = True,
    clock: Annotated[str | None, typer.Option("--clock", help="a simulated clock file (JSON, as the demo "
                                              "writes it) instead of the real time [env EXCHANGE_CLOCK]")] = None,
    test_password_cost: Annotated[bool, typer.Option(
        "--test-password-cost", hidden=True, help="test suites only: hash people's passwords at argon2's "
        "test cost (a stolen database would give them away)")] = False,
) -> None:
    """Serve the hub's JSON API under /api/ (OpenAPI docs at /docs)."""
    # Imported here so that every other command starts without loading the web stack.
    import uvicorn

    from exchange.hub import create_app
    from exchange.hub.people.passwords import PRODUCTION_COST, TEST_COST
    from exchange.hub.settings import HubSettings
    from exchange.hub.trust import require_layout

    cfg = settings(keys_dir=keys, bodies_file=bodies, db_url=db, data_dir=data)
    if checkpoint_interval < 0:
        raise InputError("--checkpoint-interval cannot be negative")
    if mtls and not tls:
        raise InputError("--mtls needs --tls")
    hub = HubSettings.from_settings(cfg, max_upload=max_upload_mib * 1024 * 1024, training=training, mtls=mtls,
                                    durable=durable, checkpoint_interval=checkpoint_interval,
                                    clock=clock_from_option(clock or (str(cfg.clock_file) if cfg.clock_file else None)),
                                    password_cost=TEST_COST if test_password_cost else PRODUCTION_COST)
    hub.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = KeyStore.at(hub.keys_dir)
    require_layout(store)  # one line now, not a traceback from every worker's start
    ssl_options: dict[str, Any] = {}
    if tls:
        # TLS stacks check validity at the real time, whatever clock the PKI was made on.
        files = server_certificate(store, hosts=[host], at=parse_time(None))
        ssl_options = {"ssl_certfile": str(files.cert_path), "ssl_keyfile": str(files.key_path)}
    if mtls:
        from exchange.hub.mtls import PeerCertificateProtocol

        ssl_options |= {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": str(store.root_path),
                        "http": PeerCertificateProtocol}
    scheme = "https" if tls else "http"
    typer.echo(f"hub on {scheme}://{host}:{port}/ — database {hub.database_url}, keys {hub.keys_dir}/"
               + (f"; TLS certificate {ssl_options['ssl_certfile']} (trust {store.root_path})" if tls else "")
               + ("; clients must present a TLS certificate from the demo PKI" if mtls else ""))
    # Migrate the schema here, before any worker starts: a database this hub cannot use (one of a
    # newer hub, or one made by a much older one) is then one line, not a traceback per worker.
    # (Workers and other hub processes starting at once take turns on the migration lock.)
    from exchange.hub.store.db import make_engine

    make_engine(hub.database_url).dispose()
    if workers > 1:
        # Worker processes import the app themselves; pass the settings through the environment.
        os.environ.update(_env(hub))
        uvicorn.run("exchange.hub.factory:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, **ssl_options)  # type: ignore[arg-type]
    else:
        uvicorn.run(create_app(hub), host=host, port=port, log_level=log_level, **ssl_options)  # type: ignore[arg-type]


def _env(hub: HubSettings) -> dict[str, str]:
    from exchange.hub.people.passwords import TEST_COST

    env = {
        "EXCHANGE_KEYS": str(hub.keys_dir.resolve()),
        "EXCHANGE_DATA": str(hub.data_dir.resolve()),
        "EXCHANGE_BODIES": str(hub.resolved_bodies_file.resolve()),
        "EXCHANGE_MAX_UPLOAD": str(hub.max_upload),
        "EXCHANGE_TRAINING": "1" if hub.training else "",
        "EXCHANGE_CHECKPOINT_INTERVAL": str(hub.checkpoint_interval),
        "EXCHANGE_DURABLE": "1" if hub.durable else "0",
        "EXCHANGE_MTLS": "1" if hub.mtls else "",
        "EXCHANGE_TEST_PASSWORD_COST": "1" if hub.password_cost == TEST_COST else "",
    }
    if isinstance(hub.clock, ClockFile):
        env["EXCHANGE_CLOCK"] = str(hub.clock.path.resolve())
    if hub.db_url:
        env["EXCHANGE_DB"] = hub.db_url
    return env


DbOpt = Annotated[str | None, typer.Option("--db", help="database URL [env EXCHANGE_DB; SQLite in --data]")]
DataOpt = Annotated[Path | None, typer.Option("--data", help="data directory [env EXCHANGE_DATA, default data]")]


@app.command("gc")
def gc(
    db: DbOpt = None,
    data: DataOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only say what would be removed")] = False,
) -> None:
    """Remove blobs no document names and partial uploads; safe while the hub serves."""
    from exchange.hub.blobs import BlobStore
    from exchange.hub.housekeeping import collect_garbage
    from exchange.hub.settings import HubSettings

    hub = HubSettings.from_settings(settings(db_url=db, data_dir=data))
    blobs_dir = hub.data_dir / "blobs"
    if not blobs_dir.is_dir():
        raise InputFileError(f"no blob store in {hub.data_dir}/ (is --data the hub's data folder?)")
    engine = _existing_database(hub.database_url)
    try:
        typer.echo(collect_garbage(engine, BlobStore(blobs_dir), dry_run=dry_run).summary())
    finally:
        engine.dispose()


@app.command("backup")
def backup_command(
    out: Annotated[Path, typer.Option("-o", "--out", help="a new or empty folder for the backup")],
    db: DbOpt = None,
    data: DataOpt = None,
) -> None:
    """Back up the hub's database and blobs while it serves (SQLite backup API, or pg_dump)."""
    from exchange.hub.backup import backup
    from exchange.hub.settings import HubSettings

    hub = HubSettings.from_settings(settings(db_url=db, data_dir=data))
    if not (hub.data_dir / "blobs").is_dir():
        raise InputFileError(f"no blob store in {hub.data_dir}/ (is --data the hub's data folder?)")
    _existing_database(hub.database_url).dispose()
    manifest = backup(db_url=hub.database_url, data_dir=hub.data_dir, out=out, at=parse_time(None))
    typer.echo(f"{out}/: {manifest.summary()}")


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="a backup folder made by `exchange hub backup`")],
    db: Annotated[str, typer.Option("--db", help="an empty database (sqlite:///NEW-FILE or an empty "
                                    "PostgreSQL database)")],
    data: Annotated[Path, typer.Option("--data", help="a new or empty data folder")],
) -> None:
    """Restore a backup into a fresh database and data folder; then start a hub on them."""
    from exchange.hub.backup import restore

    manifest = restore(source=source, db_url=db, data_dir=data)
    typer.echo(f"restored {manifest.summary()} into {data}/; start it with: "
               f"exchange hub serve --db '{db}' --data {data}")


def _existing_database(url: str) -> Engine:
    """The hub's engine, refusing to create a SQLite database that is not there."""
    from exchange.hub.store.db import make_engine

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise InputFileError(f"no hub database at {url.removeprefix('sqlite:///')}")
    return make_engine(url)
