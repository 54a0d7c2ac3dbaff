"""What the hub trusts and signs with: the PKI's root, its CRLs (re-read as soon as they change
on disk), and the hub's own time-stamping authority.

``exchange keys revoke`` and ``exchange keys crl`` rewrite the CRL files; a running hub notices
within ``reload_interval`` seconds (one ``stat`` per file per interval), without a restart. A
CRL past its ``nextUpdate`` is no evidence: :meth:`Trust.require_current` refuses to validate
anything new with it (``revocation-data-stale``) until the CA publishes a fresh one.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

from cryptography import x509

from exchange.cms import TimeStampAuthority, Verifier
from exchange.cms.report import iso
from exchange.errors import PKIError, PKINotFoundError
from exchange.pki import KeyStore, PathValidator
from exchange.pki.certificates import common_name_of, read_file
from exchange.pki.revocation import is_stale, load_crl


class RevocationDataStaleError(PKIError):
    """Raised by :meth:`Trust.require_current` when a CRL the hub holds is past its next update: it
    cannot tell a revoked certificate from a valid one, so it validates nothing new (HTTP 503)."""

    code = "revocation-data-stale"


def require_layout(store: KeyStore) -> None:
    """Raise PKINotFoundError unless *store* is a PKI the hub can serve: one with the TSA's
    credential and the root's CRL (a key folder from before has neither: every signature would
    be TRY_LATER, and nothing could be time-stamped)."""
    store.require()
    missing = [name for name, found in (("tsa.pem", store.has_tsa()), ("root-crl.pem", store.root_crl_path.is_file()))
               if not found]
    if missing:
        raise PKINotFoundError(
            f"{store.directory}/ has no {' and no '.join(missing)}: it was made before the hub time-stamped "
            f"signatures and the root published its CRL; re-create it with: exchange keys init --force "
            f"--dir {store.directory}")


class Trust:
    """What one hub trusts and signs with, shared by its workers: the PKI at *store* (its root,
    the CRLs re-read within *reload_interval* seconds of a change on disk) and its TSA. Raises
    PKINotFoundError when the key folder is not one the hub can serve (:func:`require_layout`)."""

    def __init__(self, store: KeyStore, *, reload_interval: float = 1.0) -> None:
        require_layout(store)
        self.store = store
        self.reload_interval = reload_interval
        self._lock = threading.Lock()
        self._checked = 0.0
        self._mtimes: tuple[int | None, ...] | None = None
        root = store.root()
        self._base = PathValidator(trust_anchors=[root], require_revocation=True)
        self._crls: list[x509.CertificateRevocationList] = []
        self._by_file: dict[Path, x509.CertificateRevocationList] = {}
        self._verifier = Verifier(paths=self._base)
        self._tsa: TimeStampAuthority | None = None
        self._refresh(force=True)

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.reload_interval:
            return
        with self._lock:
            self._checked = now
            files = (self.store.crl_path, self.store.root_crl_path)
            mtimes = tuple(_mtime(p) for p in files)
            if mtimes == self._mtimes:
                return
            by_file = dict(self._by_file)
            for path, mtime in zip(files, mtimes, strict=True):
                # A file that vanished keeps its last CRL rather than trusting nothing was revoked.
                if mtime is not None:
                    by_file[path] = load_crl(read_file(path), source=str(path))
            crls = [by_file[p] for p in files if p in by_file]
            verifier = Verifier(paths=self._base.with_crls(crls))
            verifier._certs = self._verifier._certs  # keep parsed certificates across reloads
            self._by_file, self._crls, self._verifier, self._mtimes = by_file, crls, verifier, mtimes

    def reload(self) -> None:
        """Re-read the CRLs now if they changed (the simulator calls this after a revocation)."""
        self._refresh(force=True)

    def verifier(self) -> Verifier:
        """A verifier with the current CRLs (re-read if the files changed)."""
        self._refresh()
        return self._verifier

    def crl(self) -> x509.CertificateRevocationList:
        """The issuing CA's current CRL (the one body certificates name)."""
        self._refresh()
        return self._crls[0]

    def root_crl(self) -> x509.CertificateRevocationList | None:
        """The root's current CRL over the issuing CA, if the PKI has one."""
        self._refresh()
        issuing = self._crls[0].issuer
        return next((c for c in self._crls if c.issuer != issuing), None)

    def is_revoked(self, serial: int, *, at: datetime) -> bool:
        """Whether the issuing CA's current CRL lists *serial* as revoked at or before *at*."""
        item = self.crl().get_revoked_certificate_by_serial_number(serial)
        return item is not None and item.revocation_date_utc <= at

    def stale(self, *, at: datetime) -> str | None:
        """Why the hub's revocation data is no evidence at *at* (a CRL past its next update),
        or None when every CRL it holds is current."""
        self._refresh()
        for crl in self._crls:
            if is_stale(crl, at) and crl.next_update_utc is not None:
                issuer = crl.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
                who = str(issuer[0].value) if issuer else crl.issuer.rfc4514_string()
                return (f"the hub's newest CRL from {who!r} was due to be replaced at "
                        f"{iso(crl.next_update_utc)} and no newer one has been published: revocation "
                        "status cannot be established (the CA re-issues it with `exchange keys crl`)")
        return None

    def require_current(self, *, at: datetime) -> None:
        """Raise RevocationDataStaleError unless every CRL the hub holds is current at *at*."""
        why = self.stale(at=at)
        if why is not None:
            raise RevocationDataStaleError(why)

    def tsa(self) -> TimeStampAuthority:
        """The hub's time-stamping authority (its own certificate and key), loaded once."""
        if self._tsa is None:
            with self._lock:
                if self._tsa is None:
                    self._tsa = TimeStampAuthority(self.store.tsa_credential())
        return self._tsa

    def tsa_name(self) -> str:
        """The common name of the hub's TSA certificate, as reports name it."""
        return common_name_of(self.tsa().certificate)


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
