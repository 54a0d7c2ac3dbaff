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

Subclasses beside the code that raises them: ``MalformedSignatureError``,
``MalformedEnvelopeError``, ``MalformedTokenError`` (cms), ``MalformedEntryError``,
``MalformedCheckpointError`` (tlog) under MalformedError; ``ScenarioError`` (simulate) and
``ProofRangeError`` (tlog) under InputError; ``TimestampUnavailableError`` (cms.tsa) and
``RevocationDataStaleError`` (hub.trust) under PKIError; ``TimestampError`` (cms.tsa) and
``DemoError`` (simulate) directly under ExchangeError.

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
    """Raised when a user or client gave bad input: a wrong argument, field or value (CLI exit 2,
    HTTP 400)."""

    code = "invalid-input"


class InputFileError(InputError):
    """Raised when a file given as input is missing, unreadable or not the kind expected (the
    message names it)."""

    code = "bad-file"


class UnknownBodyError(InputError):
    """Raised when a body id is not among the configured bodies (``bodies.toml``)."""

    code = "unknown-body"


class BodiesFileError(InputError):
    """Raised when the bodies file cannot be read or a body's entry is malformed (names the field)."""

    code = "bad-bodies-file"


class MalformedError(InputError):
    """Raised at parse time when bytes are not what they claim: not a certificate, CRL, CMS
    structure or log entry. A well-formed signature that fails verification is not one: it yields a
    FAILED or INDETERMINATE report."""

    code = "malformed"


class PKIError(ExchangeError):
    """Raised when the demo PKI cannot serve a request: its files are missing, would be overwritten,
    or its keys are not usable now."""

    code = "pki-error"


class PKIExistsError(PKIError):
    """Raised by ``keys init`` when a PKI already exists in the key directory and ``--force`` was
    not given."""

    code = "pki-exists"


class PKINotFoundError(PKIError):
    """Raised when the key directory holds no PKI, or lacks the certificate, key or CRL asked for."""

    code = "pki-not-found"


class AuthError(ExchangeError):
    """Raised when a caller's identity is not proven or does not allow the request (HTTP 401/403)."""

    code = "not-authenticated"


class NotAuthenticatedError(AuthError):
    """Raised when a request carries no valid session, token or client certificate (HTTP 401)."""

    code = "not-authenticated"


class NotAuthorizedError(AuthError):
    """Raised when a proven caller's role or body does not allow the request (HTTP 403)."""

    code = "not-authorized"


class NotFoundError(ExchangeError):
    """Raised when an id names no stored document, delivery, account or resource (HTTP 404)."""

    code = "not-found"


class ConflictError(ExchangeError):
    """Raised when a request contradicts stored state: a name taken, a message id reused, a document
    already recalled or replaced, a certificate already revoked (HTTP 409)."""

    code = "conflict"


class TooLargeError(ExchangeError):
    """Raised when an upload or a JSON body exceeds its size limit, while it is read (HTTP 413)."""

    code = "too-large"


class RejectedError(ExchangeError):
    """Raised when the hub refuses a document or receipt on validation: a signature that does not
    pass, a receipt that does not match (HTTP 422)."""

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
    """Raised on the client side when the hub cannot be reached, its TLS certificate is not trusted,
    or it answers with something that is not its API."""

    code = "transport-error"


class BackupError(ExchangeError):
    """Raised when a backup cannot be made or restored: a tool failed, or the archive is damaged or
    does not match its manifest."""

    code = "backup-failed"


class SchemaError(ExchangeError):
    """Raised when a database's schema is not one this hub can migrate: upgraded by a newer hub,
    or made before migrations without the baseline's tables."""

    code = "schema-error"
