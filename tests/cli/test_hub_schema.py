"""A database the hub cannot use (upgraded by a newer hub) stops `hub serve` and the other
commands that open it with one line, before anything is served or changed."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from exchange.hub.store.db import make_engine


def test_a_database_of_a_newer_hub_is_one_line_not_a_traceback(run, pki, tmp_path):
    url = f"sqlite:///{tmp_path / 'data' / 'hub.db'}"
    make_engine(url).dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_a_newer_hub'"))
    engine.dispose()

    for args in (("hub", "serve", "--keys", pki.dir, "--data", tmp_path / "data", "--db", url, "--port", "1"),
                 ("users", "list", "--db", url)):
        done = run(*args)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert errors == [done.stderr.strip()] and "'9999_from_a_newer_hub'" in errors[0], done.stderr
        assert "newer hub" in errors[0]
