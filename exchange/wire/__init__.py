"""What the hub and its clients say to each other, as typed models in one place.

The hub's routes answer with these models and :class:`exchange.node.HubClient` returns them,
so a field renamed on one side is a type error on the other. Nothing here touches a
database or HTTP; the models are plain pydantic, their JSON the API's.

- :mod:`~exchange.wire.documents` — documents, deliveries, receipts, incoming documents
- :mod:`~exchange.wire.edxml` — recalls, updates, replacements; imported edXML packages
- :mod:`~exchange.wire.register` — the register's rows and the bodies served
- :mod:`~exchange.wire.measures` — K1–K3 for a period, and the hub's health
- :mod:`~exchange.wire.certificates` — a body's published certificates
- :mod:`~exchange.wire.log` — the evidence log: checkpoints, entries, proofs
- :mod:`~exchange.wire.auth` — a body's login: challenge and token
- :mod:`~exchange.wire.errors` — the error body, and its one mapping back to project errors
- :mod:`~exchange.wire.node_events` — what a node process reports to the demo (JSON lines)
"""

from exchange.wire.auth import Challenge, ChallengeRequest, Token, TokenRequest
from exchange.wire.certificates import BodyCertificates, CertificatePublic
from exchange.wire.documents import DeliveryPublic, DocumentPublic, IncomingPublic, ReceiptPublic
from exchange.wire.edxml import BusinessEventPublic, EdxmlImportPublic
from exchange.wire.errors import ErrorBody, hub_error
from exchange.wire.log import (
    CheckpointPublic,
    ConsistencyProofPublic,
    InclusionProofPublic,
    LogEntriesPublic,
    LogEntryPublic,
)
from exchange.wire.measures import Health, MeasuresPublic
from exchange.wire.register import BodyPublic, IncomingRow, RegisterPublic, RegisterRow

__all__ = [
    "BodyCertificates",
    "BodyPublic",
    "BusinessEventPublic",
    "CertificatePublic",
    "Challenge",
    "ChallengeRequest",
    "CheckpointPublic",
    "ConsistencyProofPublic",
    "DeliveryPublic",
    "DocumentPublic",
    "EdxmlImportPublic",
    "ErrorBody",
    "Health",
    "InclusionProofPublic",
    "IncomingPublic",
    "IncomingRow",
    "LogEntriesPublic",
    "LogEntryPublic",
    "MeasuresPublic",
    "ReceiptPublic",
    "RegisterPublic",
    "RegisterRow",
    "Token",
    "TokenRequest",
    "hub_error",
]
