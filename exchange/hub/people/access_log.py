"""The access log: every login, failed login, logout, refused request and document view, with
who, what, when and the outcome; and who is being refused repeatedly.

:meth:`AccessLog.record` is the one place an entry is written; listeners added with
:meth:`AccessLog.listen` are told of each entry after it is stored (the hub's tamper-evident
event log hooks its "access refused" events there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from exchange.hub.store.models import AccessEvent, as_stored

#: refusals of one actor within REPEAT_WINDOW that make it "refused repeatedly"
REPEAT_THRESHOLD = 5
REPEAT_WINDOW = timedelta(hours=24)


class Action(Enum):
    """What the access log records: a login (or a failed one), a logout, a view of a document, a
    refusal (401/403), or an operator's change to an account."""

    LOGIN = "login"
    LOGIN_FAILED = "login-failed"
    LOGOUT = "logout"
    VIEW = "view"  # a document's page, workflow or file
    REFUSED = "refused"  # a request answered 401 or 403
    USERS = "users"  # an operator changed an account


class ActorKind(Enum):
    """Who acted: a person (an account), a body (a node's session) or nobody logged in."""

    PERSON = "person"
    BODY = "body"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class AccessRecord:
    """One access: *target* is ``METHOD /path`` or a document id; *code* says why it was refused."""

    at: datetime
    actor: str
    actor_kind: ActorKind
    action: Action
    target: str
    allowed: bool
    code: str = ""
    role: str = ""
    client: str = ""

    @property
    def outcome(self) -> str:
        """``allowed`` or ``refused``, as the access log page and its CSV say it."""
        return "allowed" if self.allowed else "refused"

    @classmethod
    def of(cls, row: AccessEvent) -> AccessRecord:
        """The record of a stored access event *row*."""
        return cls(row.at, row.actor, ActorKind(row.actor_kind), Action(row.action), row.target,
                   row.outcome == "allowed", row.code, row.role, row.client)


@dataclass(frozen=True)
class RepeatedRefusals:
    """An actor refused *count* times since the window's start; the codes seen, the last time."""

    actor: str
    actor_kind: ActorKind
    count: int
    last_at: datetime
    codes: tuple[str, ...]


Listener = Callable[[AccessRecord], None]


class AccessLog:
    """The access log in the hub's database (*engine*)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call *listener* with every entry after it is stored."""
        self._listeners.append(listener)

    def record(self, entry: AccessRecord) -> None:
        """Store *entry* (texts cut to their columns' sizes), then tell the listeners."""
        with Session(self.engine) as session:
            session.add(AccessEvent(at=as_stored(entry.at), actor=_cut(entry.actor, 64),
                                    actor_kind=entry.actor_kind.value, role=entry.role, action=entry.action.value,
                                    target=_cut(entry.target, 300), outcome=entry.outcome,
                                    code=_cut(entry.code, 48), client=_cut(entry.client, 64)))
            session.commit()
        for listener in self._listeners:
            listener(entry)

    def entries(self, *, actor: str | None = None, action: Action | None = None, allowed: bool | None = None,
                offset: int = 0, limit: int = 50) -> tuple[list[AccessRecord], int]:
        """One page of entries, newest first, and how many match."""
        query = select(AccessEvent)
        counted = select(func.count()).select_from(AccessEvent)
        conditions = []
        if actor:
            conditions.append(col(AccessEvent.actor) == _cut(actor, 64))
        if action is not None:
            conditions.append(col(AccessEvent.action) == action.value)
        if allowed is not None:
            conditions.append(col(AccessEvent.outcome) == ("allowed" if allowed else "refused"))
        for condition in conditions:
            query, counted = query.where(condition), counted.where(condition)
        with Session(self.engine) as session:
            total = int(session.exec(counted).one())
            rows = session.exec(query.order_by(col(AccessEvent.id).desc()).offset(max(offset, 0))
                                .limit(limit)).all()
            return [AccessRecord.of(r) for r in rows], total

    def repeated_refusals(self, *, at: datetime, window: timedelta = REPEAT_WINDOW,
                          threshold: int = REPEAT_THRESHOLD) -> list[RepeatedRefusals]:
        """Bodies and people (and, for anonymous requests, client addresses) refused at least
        *threshold* times in the *window* before *at*, most refused first."""
        since = as_stored(at - window)
        who = col(AccessEvent.actor)
        query = (select(who, AccessEvent.actor_kind, func.count(), func.max(AccessEvent.at))
                 .where(col(AccessEvent.outcome) == "refused", col(AccessEvent.at) >= since,
                        col(AccessEvent.at) <= as_stored(at))
                 .group_by(who, AccessEvent.actor_kind)
                 .having(func.count() >= threshold)
                 .order_by(func.count().desc()))
        with Session(self.engine) as session:
            found = session.exec(query).all()
            result = []
            for actor, kind, count, last in found:
                codes = session.exec(select(AccessEvent.code).distinct().where(
                    col(AccessEvent.actor) == actor, col(AccessEvent.outcome) == "refused",
                    col(AccessEvent.at) >= since).limit(10)).all()
                result.append(RepeatedRefusals(actor, ActorKind(kind), int(count), as_stored(last),
                                               tuple(sorted(c for c in codes if c))))
            return result


def _cut(text: str, size: int) -> str:
    """*text* as a column can hold it: at most *size* characters, and NUL and lone surrogates
    (from a crafted path or name; PostgreSQL stores neither) replaced by U+FFFD."""
    if not text.isprintable():
        text = "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text if len(text) <= size else text[:size - 1] + "…"
