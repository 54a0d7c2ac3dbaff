"""The ``exchange`` command: assembles the command groups; ``main`` is the error edge."""

from __future__ import annotations

import typer

from exchange.cli import (
    audit,
    demo,
    edxml,
    hub,
    keys,
    node,
    report,
    secret,
    signing,
    simulate,
    users,
)
from exchange.cli.common import run_guarded


def build_app() -> typer.Typer:
    """The ``exchange`` command: every command group registered on one Typer app (nothing runs until
    it is called)."""
    app = typer.Typer(
        help="Signed electronic document exchange between Party bodies (Decision 260-QĐ/TW): "
        "demo PKI, CMS signatures, hub, nodes, measures K1–K3.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.add_typer(keys.app, name="keys")
    app.add_typer(hub.app, name="hub")
    app.add_typer(node.app, name="node")
    app.add_typer(edxml.app, name="edxml")
    app.add_typer(audit.app, name="audit")
    app.add_typer(users.app, name="users")
    app.command("sign")(signing.sign_command)
    app.command("verify")(signing.verify_command)
    app.command("encrypt")(secret.encrypt_command)
    app.command("decrypt")(secret.decrypt_command)
    app.command("report")(report.report_command)
    app.command("simulate")(simulate.simulate_command)
    app.command("demo")(demo.demo_command)
    return app


def main() -> None:
    """Console entry point."""
    run_guarded(build_app())
