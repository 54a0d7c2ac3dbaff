"""The documents register page: every document, filtered and paginated."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from exchange.domain.bodies import Body
from exchange.errors import InputError
from exchange.hub.service import ExchangeService
from exchange.hub.store import repository
from exchange.hub.store.models import DocumentPublic
from exchange.hub.web.documents import CHANNEL_WORDS
from exchange.metrics import Period

PAGE_SIZE = 25
VALIDITY_WORDS = {"passed": "signature valid", "failed": "signature invalid",
                  "indeterminate": "indeterminate", "unsigned": "no signature"}
STATUS_WORDS = {"awaiting": "awaiting receipt", "delivered": "delivered", "refused": "refused",
                "paper": "paper", "received": "01 received", "rejected": "02 rejected",
                "accepted": "03 accepted", "assigned": "04 assigned", "processing": "05 processing",
                "completed": "06 completed", "recall": "13 recall requested",
                "change_accepted": "15 recall/update accepted", "change_rejected": "16 recall/update refused"}


@dataclass(frozen=True)
class Filters:
    """The register's filters as given in the query string (empty: not filtered)."""

    period: str = ""
    channel: str = ""
    sender: str = ""
    recipient: str = ""
    validity: str = ""
    status: str = ""

    def query(self, **changes: object) -> str:
        """The register's query string with *changes* applied (empty values and page 1 left out),
        for links that keep the other filters."""
        values = {**self.__dict__, **changes}
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return any(self.__dict__.values())


@dataclass(frozen=True)
class RegisterPage:
    """One page of the register: the filters, the documents on it, how many match, and any error
    in the filters."""

    filters: Filters
    documents: list[DocumentPublic]
    total: int
    page: int
    pages: int
    error: str | None
    period_label: str | None
    bodies: list[Body] = field(default_factory=list)
    relations: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # edXML: recalled, replaced…

    channels = CHANNEL_WORDS
    validities = VALIDITY_WORDS
    statuses = STATUS_WORDS

    @property
    def first(self) -> int:
        """The position of the page's first document among those matching (0 when none match)."""
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last(self) -> int:
        """The position of the page's last document among those matching."""
        return min(self.page * PAGE_SIZE, self.total)

    @classmethod
    def build(cls, service: ExchangeService, filters: Filters, *, page: int = 1,
              body: str | None = None) -> RegisterPage:
        """One page of the register; only documents sent by or to *body* if one is given (a clerk's)."""
        error = None
        period: Period | None = None
        if filters.period:
            try:
                period = Period.parse(filters.period)
            except InputError as exc:
                error = exc.message
        unknown = [name for name, value, allowed in (
            ("channel", filters.channel, CHANNEL_WORDS),
            ("validity", filters.validity, repository.VALIDITY_FILTERS),
            ("status", filters.status, repository.STATUS_FILTERS),
        ) if value and value not in allowed]
        if unknown:
            error = f"unknown value for {', '.join(unknown)}: ignored"
        safe = Filters(filters.period if period else "", *(
            "" if name in unknown else getattr(filters, name)
            for name in ("channel", "sender", "recipient", "validity", "status")))
        page = max(page, 1)
        documents, total = service.find_documents(
            start=period.start if period else None, end=period.end if period else None,
            channel=safe.channel or None, sender=safe.sender or None, recipient=safe.recipient or None,
            validity=safe.validity or None, status=safe.status or None, body=body,
            offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        return cls(filters, documents, total, min(page, pages), pages, error,
                   period.label if period else None, list(service.bodies),
                   service.business_relations(document_ids=[d.id for d in documents]))
