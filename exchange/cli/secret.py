"""``exchange encrypt`` and ``exchange decrypt``: secret (Mật) documents as CMS envelopes.

``encrypt --as SENDER`` triple-wraps (sign, encrypt, sign: RFC 2634): FILE.p7m is the envelope,
FILE.p7m.p7s its outer signature. Without ``--as`` it only encrypts, as ``openssl cms -encrypt``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509

from exchange.cli.common import JsonOpt, KeysOpt, known_body, parse_time, settings
from exchange.cli.render import print_report
from exchange.cli.signing import EXIT_BY_INDICATION, _require_file, local_verifier
from exchange.cms.envelope import encrypt
from exchange.cms.sealed import open_sealed, seal
from exchange.config import Settings
from exchange.pki import KeyStore, check_encryption_certificate
from exchange.pki.certificates import read_file

#: decrypt: the content carries no inner signature, so nothing could be validated
EXIT_UNSIGNED = 3


def recipient_certificates(cfg: Settings, store: KeyStore, body_ids: list[str]) -> list[x509.Certificate]:
    """Each body's current encryption certificate from the key folder, each checked now:
    UnusableCertificateError for one revoked, expired or not for encryption."""
    at = parse_time(None)
    paths = store.path_validator(require_revocation=True)
    issuing = [store.issuing_certificate()]
    certificates = []
    for body_id in dict.fromkeys(body_ids):
        known_body(cfg, body_id)
        certificate = store.encryption_certificate(body_id)
        check_encryption_certificate(certificate, paths=paths, body_id=body_id, at=at, intermediates=issuing)
        certificates.append(certificate)
    return certificates


def encrypt_command(
    file: Annotated[Path, typer.Argument(help="the document to encrypt")],
    to: Annotated[list[str], typer.Option("--to", help="recipient body id (repeatable)")],
    as_body: Annotated[str | None, typer.Option(
        "--as", help="sign inside and outside as this body, and let it reread the envelope")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="envelope file [FILE.p7m]")] = None,
    keys: KeysOpt = None,
) -> None:
    """Encrypt FILE to the bodies' encryption certificates (CMS AuthEnvelopedData, AES-256-GCM)."""
    cfg = settings(keys_dir=keys)
    _require_file(file)
    store = KeyStore.at(cfg.keys_dir)
    certificates = recipient_certificates(cfg, store, to)
    target = output or file.with_name(file.name + ".p7m")
    content = read_file(file)
    if as_body is None:
        _write(target, encrypt(content, certificates))
        typer.echo(f"encrypted {file} for {', '.join(dict.fromkeys(to))}: {target}")
        return
    known_body(cfg, as_body)
    own = recipient_certificates(cfg, store, [as_body])[0]
    sealed = seal(content, sender=store.credential(as_body), recipients=certificates, sender_encryption=own,
                  at=parse_time(None))
    _write(target, sealed.envelope)
    outer = target.with_name(target.name + ".p7s")
    _write(outer, sealed.outer_signature)
    typer.echo(f"signed as {as_body}, encrypted for {', '.join(dict.fromkeys(to))} (and {as_body}), "
               f"signed again: {target} (outer signature {outer})")


def decrypt_command(
    file: Annotated[Path, typer.Argument(help="the envelope (.p7m)")],
    as_body: Annotated[str, typer.Option("--as", help="your body id: whose encryption key opens it")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="plaintext file [FILE without .p7m]")] = None,
    ca: Annotated[Path | None, typer.Option("--ca", help="trusted root certificate [KEYS/root-ca.pem]")] = None,
    crl: Annotated[list[Path] | None, typer.Option("--crl", help="CRL to enforce (repeatable) [KEYS/crl.pem]")] = None,
    at: Annotated[str | None, typer.Option("--at", help="validation time, ISO-8601 [now]")] = None,
    keys: KeysOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Decrypt an envelope with your encryption key and validate the inner signature.

    Exit 0 passed, 1 failed, 3 indeterminate or no inner signature.
    """
    cfg = settings(keys_dir=keys)
    _require_file(file)
    known_body(cfg, as_body)
    store = KeyStore.at(cfg.keys_dir)
    opened = open_sealed(read_file(file), credentials=store.encryption_credentials(as_body),
                         verifier=local_verifier(store, ca=ca, crl=crl), at=parse_time(at))
    target = output or (file.with_suffix("") if file.suffix == ".p7m" else file.with_name(file.name + ".out"))
    _write(target, opened.content)
    if opened.report is None:
        typer.echo(f"decrypted {file} → {target}; the content carries no inner signature: nothing to verify",
                   err=json_out)
        raise typer.Exit(EXIT_UNSIGNED)
    signature = target.with_name(target.name + ".p7s")
    _write(signature, opened.inner_signature or b"")
    if not json_out:
        typer.echo(f"decrypted {file} → {target} (inner signature {signature})")
    print_report(opened.report, json_out=json_out)
    raise typer.Exit(EXIT_BY_INDICATION[opened.report.indication])


def _write(target: Path, data: bytes) -> None:
    """Write whole or not at all (temp file + rename), so a failure leaves no half file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
