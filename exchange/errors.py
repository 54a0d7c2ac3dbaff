"""The project's one error tree.

Every error the project raises on purpose descends from :class:`ExchangeError` and carries a
stable machine-readable ``code`` (used verbatim in the hub's JSON error bodies and the CLI's
one-line messages)::

    ExchangeError
    ├── InputError                 bad input from a user or a client (CLI exit 2, HTTP 400)
    │   ├── InputFileError             a missing, unreadable or wrong kind of file
    │   ├── UnknownBodyError           a body id that is not among the configured bodies
    │   ├── BodiesFileError            a malformed bodies file (names the field)
    │   └── MalformedError             bytes that do not parse (not a certificate, not a CRL)
    ├── PKIError                   the demo PKI on disk is missing or would be overwritten
    │   ├── PKIExistsError
    │   └── PKINotFoundError
    ├── AuthError                  identity not proven or not allowed (HTTP 401/403)
    │   ├── NotAuthenticatedError
    │   └── NotAuthorizedError
    ├── NotFoundError              an unknown document or resource (HTTP 404)
    ├── ConflictError              a request that contradicts stored state (HTTP 409)
    ├── TooLargeError              an upload over the size limit (HTTP 413)
    ├── RejectedError              a document or receipt refused on validation (HTTP 422)
    │   ├── UnusableCertificateError   an encryption certificate that must not be encrypted to
    │   └── DecryptionError            an envelope that is not for this key, or will not open
    ├── TransportError             the hub could not be reached or answered badly (client side)
    ├── BackupError                a backup could not be made or restored (a tool failed, damage)
    └── SchemaError                a database whose schema the hub cannot use or upgrade

A signature that parses but does not verify is *not* an error: verification returns a
report whose indication says why (see :mod:`exchange.cms.report`).
"""

from __future__ import annotations

from typing import Any


class ExchangeError(Exception):
    """Base of every deliberate project error; ``code`` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class InputError(ExchangeError):
    code = "invalid-input"


class InputFileError(InputError):
    code = "bad-file"


class UnknownBodyError(InputError):
    code = "unknown-body"


class BodiesFileError(InputError):
    code = "bad-bodies-file"


class MalformedError(InputError):
    code = "malformed"


class PKIError(ExchangeError):
    code = "pki-error"


class PKIExistsError(PKIError):
    code = "pki-exists"


class PKINotFoundError(PKIError):
    code = "pki-not-found"


class AuthError(ExchangeError):
    code = "not-authenticated"


class NotAuthenticatedError(AuthError):
    code = "not-authenticated"


class NotAuthorizedError(AuthError):
    code = "not-authorized"


class NotFoundError(ExchangeError):
    code = "not-found"


class ConflictError(ExchangeError):
    code = "conflict"


class TooLargeError(ExchangeError):
    code = "too-large"


class RejectedError(ExchangeError):
    code = "rejected"


class UnusableCertificateError(RejectedError):
    """Raised before encrypting to a certificate that is revoked, expired, untrusted or not
    for encryption: a secret document is never encrypted to it."""

    code = "unusable-certificate"


class DecryptionError(RejectedError):
    """Raised when an envelope has no recipient info for the key at hand, or does not open
    with it (wrong key, altered ciphertext)."""

    code = "cannot-decrypt"


class TransportError(ExchangeError):
    code = "transport-error"


class BackupError(ExchangeError):
    code = "backup-failed"


class SchemaError(ExchangeError):
    """Raised when a database's schema is not one this hub can migrate: upgraded by a newer hub,
    or made before migrations without the baseline's tables."""

    code = "schema-error"
