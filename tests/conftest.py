"""The one test PKI of the session, with named actors, shared by every test in the project.

Generated once per session (RSA-2048, the real profile) into a temporary key directory by
``exchange.pki.init_pki``, with a small bodies file of six real bodies plus ``revoked-body``.
Tests never read the wall clock: they derive every ``at`` from ``pki.created``, the moment
the PKI was made (close enough to now that ``openssl`` without ``-attime`` agrees).

Actors, each a :class:`~exchange.pki.Credential` whose *only* defect is its name:

- ``signer``            central-office: valid, not on the CRL
- ``revoked``           revoked-body, revoked in the CRL at ``created + 1 h`` (``revoked_at``)
- ``expired``           validity ended long before ``created`` (signs inside its validity)
- ``not_yet_valid``     validity starts 30 days after ``created``
- ``no_signing_usage``  key usage keyEncipherment only
- ``foreign``           issued by a second, independent root + issuing CA (not trusted)

Fixtures: ``pki`` (session, the above), ``pki_copy`` (a private copy of its key directory,
for tests that revoke or renew: never change ``pki.store``), ``ecdsa_store`` (session, the
same bodies under ``--algorithm ecdsa-p256``), ``tsa`` (session, the PKI's time-stamping
authority) and ``samples_dir``.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from exchange.cms import TimeStampAuthority, Verifier
from exchange.domain.bodies import BodyRegistry
from exchange.pki import (
    Credential,
    KeyAlgorithm,
    KeyStore,
    PathValidator,
    build_crl,
    init_pki,
    revoke,
)
from exchange.pki.ca import BACKDATE
from exchange.pki.certificates import (
    generate_key,
    issue_ca,
    issue_root,
    issue_signing_certificate,
)
from exchange.pki.revocation import crl_number, revoked_entries

REPO = Path(__file__).resolve().parents[1]
SAMPLE_BODIES = REPO / "samples" / "bodies.toml"
#: the six real bodies of the test PKI (central and provincial), plus one to revoke
TEST_BODY_IDS = (
    "central-office",
    "organization-commission",
    "propaganda-commission",
    "ha-noi",
    "nghe-an",
    "da-nang",
)
REVOKED_BODY = {
    "id": "revoked-body",
    "kind": "central",
    "name_vi": "Cơ quan bị thu hồi chứng thư (thử nghiệm)",
    "name_en": "Test body whose certificate is revoked",
}
REVOKED_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class TestPKI:
    """The session's demo PKI on disk, its clock, and its named actors."""

    __test__ = False  # a fixture value, not a test class

    dir: Path
    store: KeyStore
    bodies_file: Path
    bodies: BodyRegistry
    created: datetime
    signer: Credential
    revoked: Credential
    expired: Credential
    not_yet_valid: Credential
    no_signing_usage: Credential
    foreign: Credential
    #: the second, untrusted PKI above ``foreign``: its root and its issuing CA (with key)
    foreign_root: x509.Certificate
    foreign_issuing: Credential

    @property
    def root(self) -> x509.Certificate:
        return self.store.root()

    @property
    def revoked_at(self) -> datetime:
        """When ``revoked`` was revoked (the CRL's revocation date)."""
        return self.created + REVOKED_AFTER

    def crls_at(self, at: datetime, *, days: int = 7) -> list[x509.CertificateRevocationList]:
        """The PKI's two CRLs as its CA would publish them at *at* (same entries, current for
        *days*): for validations far from ``created``, where the session's CRLs are stale."""
        made = []
        for signer, current in ((self.store.issuing_ca(), self.store.crl()),
                                (self.store.root_credential(), self.store.root_crl())):
            made.append(build_crl(signer, revoked_entries(current), at=at, next_update=timedelta(days=days),
                                  number=crl_number(current) + 1))
        return made

    def verifier(
        self,
        *,
        crls: Sequence[x509.CertificateRevocationList] | None = None,
        require_revocation: bool = True,
        trust_anchors: Sequence[x509.Certificate] | None = None,
    ) -> Verifier:
        """A verifier trusting this PKI's root and enforcing its CRLs (the issuing CA's and the
        root's) unless told otherwise."""
        return Verifier(
            paths=PathValidator(
                trust_anchors=trust_anchors if trust_anchors is not None else [self.root],
                crls=self.store.crls() if crls is None else crls,
                require_revocation=require_revocation,
            )
        )


def write_bodies_file(path: Path, tables: Sequence[dict[str, object]]) -> Path:
    """Write ``[[body]]`` tables as TOML (strings JSON-quoted: valid TOML basic strings)."""
    lines: list[str] = []
    for table in tables:
        lines.append("[[body]]")
        for key, value in table.items():
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
            lines.append(f"{key} = {text}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _actor(
    issuing: Credential,
    body_id: str,
    name_vi: str,
    *,
    not_before: datetime,
    days: int = 730,
    key_usage: x509.KeyUsage | None = None,
) -> Credential:
    key = generate_key(KeyAlgorithm.RSA2048)
    cert = issue_signing_certificate(
        key,
        issuer=issuing,
        body_id=body_id,
        name_vi=name_vi,
        not_before=not_before,
        days=days,
        key_usage=key_usage,
    )
    return Credential(cert, key, (issuing.certificate,))


def _key_encipherment_only() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


#: test folders whose modules are handed out first (they start hub, node and browser processes):
#: a worker that took one of them last would leave the other idle at the end of the run
SLOW_FIRST = ("e2e", "web", "simulate", "cli")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Whole modules of the process-heavy folders first. ``./dev test`` runs ``--dist loadscope
    --no-loadscope-reorder``: each module goes to one xdist worker, so a module's hub processes
    (one per database), seeded browser hub or simulation run is built once, not once per worker,
    and the workers take modules in this order."""
    first = {folder: rank for rank, folder in enumerate(SLOW_FIRST)}

    def rank(item: pytest.Item) -> int:
        parts = item.path.relative_to(REPO / "tests").parts
        return first.get(parts[0], len(SLOW_FIRST)) if len(parts) > 1 else len(SLOW_FIRST)

    items[:] = [item for _, item in sorted(enumerate(items), key=lambda pair: (rank(pair[1]), pair[0]))]


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return REPO / "samples"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """The session's test PKI (see the module docstring). Do not modify it: use ``pki_copy``."""
    created = datetime.now(UTC).replace(microsecond=0)
    directory = tmp_path_factory.mktemp("pki") / "keys"
    samples = {t["id"]: t for t in tomllib.loads(SAMPLE_BODIES.read_text(encoding="utf-8"))["body"]}
    bodies_file = write_bodies_file(
        directory.parent / "bodies.toml", [samples[i] for i in TEST_BODY_IDS] + [REVOKED_BODY]
    )
    bodies = BodyRegistry.from_toml(bodies_file)
    store = KeyStore(directory)
    init_pki(store, bodies, at=created, bodies_file=str(bodies_file))
    revoke(store, REVOKED_BODY["id"], at=created + REVOKED_AFTER)

    issuing = store.issuing_ca()
    start = created - BACKDATE
    foreign_root_key = generate_key(KeyAlgorithm.RSA2048)
    foreign_root = Credential(issue_root(foreign_root_key, not_before=start), foreign_root_key)
    foreign_ca_key = generate_key(KeyAlgorithm.RSA2048)
    # Same profile, hence the same CA names as ours: only the keys tell them apart.
    foreign_issuing = Credential(
        issue_ca(foreign_ca_key, issuer=foreign_root, not_before=start),
        foreign_ca_key,
        (foreign_root.certificate,),
    )
    return TestPKI(
        dir=directory,
        store=store,
        bodies_file=bodies_file,
        bodies=bodies,
        created=created,
        signer=store.credential("central-office"),
        revoked=store.credential(REVOKED_BODY["id"]),
        expired=_actor(
            issuing,
            "expired-body",
            "Cơ quan chứng thư hết hạn",
            not_before=created - timedelta(days=800),
            days=365,
        ),
        not_yet_valid=_actor(
            issuing,
            "not-yet-valid-body",
            "Cơ quan chứng thư chưa hiệu lực",
            not_before=created + timedelta(days=30),
        ),
        no_signing_usage=_actor(
            issuing,
            "no-signing-usage-body",
            "Cơ quan không được ký",
            not_before=start,
            key_usage=_key_encipherment_only(),
        ),
        foreign=_actor(foreign_issuing, "foreign-body", "Cơ quan ngoài hệ thống", not_before=start),
        foreign_root=foreign_root.certificate,
        foreign_issuing=foreign_issuing,
    )


@pytest.fixture(scope="session")
def ecdsa_store(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    """A second demo PKI made with ``--algorithm ecdsa-p256`` (same bodies and clock)."""
    store = KeyStore(tmp_path_factory.mktemp("pki-ecdsa") / "keys")
    init_pki(store, pki.bodies, at=pki.created, algorithm=KeyAlgorithm.ECDSA_P256)
    return store


@pytest.fixture
def pki_copy(pki: TestPKI, tmp_path: Path) -> KeyStore:
    """A private copy of the session's key directory, for tests that revoke or renew."""
    return KeyStore(Path(shutil.copytree(pki.dir, tmp_path / "keys")))


@pytest.fixture(scope="session")
def tsa(pki: TestPKI) -> TimeStampAuthority:
    """The session PKI's time-stamping authority (the one a hub over ``pki`` would run)."""
    return TimeStampAuthority(pki.store.tsa_credential())
