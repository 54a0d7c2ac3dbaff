"""Who a person is at the hub: a role, what each role may do, and the person behind a request.

======== ================================================================================
role     may
======== ================================================================================
operator manage people (``/users``), read the access log, every document's metadata
auditor  every document's metadata, reports, receipts and a normal document's text; the
         access log; never a secret document's content
trainer  the training panel (``--training``), every document's metadata and normal text
clerk    only its own body's documents (sent or received) and the measures
======== ================================================================================

No role is ever shown a secret (Mật) document's content: the pages never render it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from exchange.errors import InputError, NotAuthorizedError


class Role(Enum):
    """A person's role at the hub; what each may do is the module's table (:func:`grants`)."""

    OPERATOR = "operator"
    AUDITOR = "auditor"
    TRAINER = "trainer"
    CLERK = "clerk"

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named *text*; InputError naming the roles otherwise."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InputError(f"unknown role {text!r}: one of {', '.join(r.value for r in cls)}",
                             code="unknown-role") from None


class Permission(Enum):
    """One thing a role may do at the hub; a request that needs one its viewer lacks is refused
    (403)."""

    MEASURES = "measures"  # K1–K3, the bodies' tables, live counts
    REGISTER = "register"  # documents' metadata (a clerk: only its body's)
    CONTENT = "content"  # a normal document's text (a clerk: only its body's); never a secret one
    ALL_BODIES = "all-bodies"  # not limited to one body
    TRAIN = "train"  # the training panel
    ACCESS_LOG = "access-log"  # the access log and repeated refusals
    USERS = "users"  # add, disable, reset people; issue tokens

    @property
    def words(self) -> str:
        """What the permission allows, as a refusal's message says it ("see the register")."""
        return {
            Permission.MEASURES: "see the measures",
            Permission.REGISTER: "see the register",
            Permission.CONTENT: "read a document's content",
            Permission.ALL_BODIES: "see other bodies' documents",
            Permission.TRAIN: "use the training panel",
            Permission.ACCESS_LOG: "read the access log",
            Permission.USERS: "manage people",
        }[self]


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset({Permission.MEASURES, Permission.REGISTER, Permission.ALL_BODIES,
                              Permission.ACCESS_LOG, Permission.USERS}),
    Role.AUDITOR: frozenset({Permission.MEASURES, Permission.REGISTER, Permission.ALL_BODIES,
                             Permission.CONTENT, Permission.ACCESS_LOG}),
    Role.TRAINER: frozenset({Permission.MEASURES, Permission.REGISTER, Permission.ALL_BODIES,
                             Permission.CONTENT, Permission.TRAIN}),
    Role.CLERK: frozenset({Permission.MEASURES, Permission.REGISTER, Permission.CONTENT}),
}


def grants(role: Role) -> frozenset[Permission]:
    """What *role* may do."""
    return _GRANTS[role]


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: name, role, a clerk's body, and how they proved it.

    ``via`` is ``session`` (a login cookie: forms must carry ``csrf``) or ``token`` (a bearer
    token from ``exchange users token``: no cookie, so no CSRF to fear).
    """

    name: str
    role: Role
    body: str | None
    via: str
    csrf: str = ""

    def can(self, permission: Permission) -> bool:
        """Whether the viewer's role grants *permission*."""
        return permission in _GRANTS[self.role]

    def require(self, permission: Permission) -> None:
        """NotAuthorizedError (``role-not-allowed``) unless the role grants *permission*."""
        if not self.can(permission):
            raise NotAuthorizedError(f"{self.name} ({self.role.value}) may not {permission.words}",
                                     code="role-not-allowed")

    @property
    def scope(self) -> str | None:
        """The one body whose documents this person may see; None for every body."""
        return None if self.can(Permission.ALL_BODIES) else self.body

    def may_see(self, *, sender: str, recipients: Iterable[str]) -> bool:
        """Whether a document from *sender* to *recipients* is within this person's scope."""
        scope = self.scope
        return scope is None or scope == sender or scope in set(recipients)

    def require_document(self, document_id: str, *, sender: str, recipients: Iterable[str]) -> None:
        """NotAuthorizedError (``other-body``) for a document outside this person's scope."""
        if not self.may_see(sender=sender, recipients=recipients):
            raise NotAuthorizedError(f"document {document_id} was neither sent by nor to {self.scope}",
                                     code="other-body")
