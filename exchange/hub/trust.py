"""What the hub trusts: the PKI's root, and the CRL, re-read as soon as it changes on disk.

``exchange keys revoke`` rewrites ``crl.pem``; a running hub notices within
``reload_interval`` seconds (one ``stat`` per interval), without a restart.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from cryptography import x509

from exchange.cms import Verifier
from exchange.pki import KeyStore, PathValidator
from exchange.pki.certificates import read_file
from exchange.pki.revocation import load_crl


class Trust:
    def __init__(self, store: KeyStore, *, reload_interval: float = 1.0) -> None:
        store.require()
        self.store = store
        self.reload_interval = reload_interval
        self._lock = threading.Lock()
        self._checked = 0.0
        self._mtime: float | None = None
        self._base = PathValidator(trust_anchors=[store.root()], require_revocation=True)
        self._crl: x509.CertificateRevocationList | None = None
        self._verifier = Verifier(paths=self._base)
        self._refresh(force=True)

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.reload_interval:
            return
        with self._lock:
            self._checked = now
            try:
                mtime = self.store.crl_path.stat().st_mtime_ns
            except FileNotFoundError:
                return  # keep the last CRL we had rather than trusting nothing was revoked
            if mtime == self._mtime:
                return
            crl = load_crl(read_file(self.store.crl_path), source=str(self.store.crl_path))
            paths = self._base.with_crls([crl])
            verifier = Verifier(paths=paths)
            verifier._certs = self._verifier._certs  # keep parsed certificates across reloads
            self._crl, self._verifier, self._mtime = crl, verifier, mtime

    def reload(self) -> None:
        """Re-read the CRL now if it changed (the simulator calls this after a revocation)."""
        self._refresh(force=True)

    def verifier(self) -> Verifier:
        """A verifier with the current CRL (re-read if the file changed)."""
        self._refresh()
        return self._verifier

    def crl(self) -> x509.CertificateRevocationList:
        self._refresh()
        assert self._crl is not None
        return self._crl

    def is_revoked(self, serial: int, *, at: datetime) -> bool:
        """Whether the current CRL lists *serial* as revoked at or before *at*."""
        item = self.crl().get_revoked_certificate_by_serial_number(serial)
        return item is not None and item.revocation_date_utc <= at
