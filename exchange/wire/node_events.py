"""What a demo node process reports to the demo, one JSON object a line on its stdout.

:mod:`exchange.node.runner` writes these and :mod:`exchange.simulate.demo` reads them: each
line is one event, ``{"e": KIND, "body": BODY, ...}``, the fields by kind below. In the other
direction the demo writes the bare words ``go``, ``drain`` and ``stop`` (see :data:`CONTROL`).

==============  ==============================================================================
``ready``       logged in; waits for ``go``
``sent``        a document the hub accepted (``id``, ``channel``, register ``rows``)
``refused``     one the hub refused (``id`` if the hub gave one, ``code``, ETSI ``sub``-indication,
                ``rows``, ``altered``: it was changed in transit on purpose)
``received``    a document fetched from the inbox and verified (``id``, ``sender``, ``verdict``)
``acknowledged``  the signed receipt the hub accepted for it (``id``, edXML ``status``)
``incoming``    a document from an outside agency registered (``id``, ``scanned``, ``entered``)
``locked``      the hub refused the body's revoked certificate (``serial``, ``reason``)
``renewed``     logged in again with a new certificate (``serial``)
``sent-all``    every planned document is sent; waits for ``drain``
``done``        drained: nothing more will come
``error``       the node failed (``message``: one line; the traceback is in its log)
==============  ==============================================================================
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from exchange.errors import MalformedError

__all__ = ["CONTROL", "Acknowledged", "Done", "Error", "Incoming", "Locked", "NodeEvent", "Ready", "Received",
           "Refused", "Renewed", "Sent", "SentAll", "encode_event", "parse_event"]

#: the words the demo writes to a node's stdin, one a line: start, send nothing more and
#: finish receiving, exit now (end of input means stop too)
CONTROL = ("go", "drain", "stop")


class _Event(BaseModel):
    """Every event names the body whose node reports it; ``e`` (each kind's constant) says which
    kind it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    body: str


class Ready(_Event):
    """Logged in to the hub; waiting for ``go``."""

    e: Literal["ready"] = "ready"


class Sent(_Event):
    """A document the hub accepted: its id, its channel and how many register rows it makes."""

    e: Literal["sent"] = "sent"
    id: str
    channel: str  # exchange.domain.documents.Channel
    rows: int


class Refused(_Event):
    """A document the hub refused, and why (the ETSI sub-indication, else the hub's code)."""

    e: Literal["refused"] = "refused"
    id: str | None
    code: str
    sub: str
    rows: int
    altered: bool


class Received(_Event):
    """A document fetched from the inbox, with the node's own verdict on its signature."""

    e: Literal["received"] = "received"
    id: str
    sender: str
    verdict: str  # an indication, or UNSIGNED


class Acknowledged(_Event):
    """A signed receipt the hub accepted."""

    e: Literal["acknowledged"] = "acknowledged"
    id: str
    status: str  # edXML status code, e.g. "01"


class Incoming(_Event):
    """A document from an outside agency, registered on arrival (K3)."""

    e: Literal["incoming"] = "incoming"
    id: str
    scanned: bool
    entered: bool


class Locked(_Event):
    """The hub refused the body's certificate as revoked: the node waits for a new one."""

    e: Literal["locked"] = "locked"
    serial: str  # hex
    reason: str  # the hub's code


class Renewed(_Event):
    """The node logged in again with its new certificate."""

    e: Literal["renewed"] = "renewed"
    serial: str  # hex


class SentAll(_Event):
    """Every planned document is sent; the node keeps receiving until ``drain``."""

    e: Literal["sent-all"] = "sent-all"


class Done(_Event):
    """Drained: the node has nothing more to do."""

    e: Literal["done"] = "done"


class Error(_Event):
    """The node failed; *message* is the first line of the error."""

    e: Literal["error"] = "error"
    message: str


#: any one event, told apart by its ``e`` field
NodeEvent = Annotated[Ready | Sent | Refused | Received | Acknowledged | Incoming | Locked | Renewed | SentAll
                      | Done | Error, Field(discriminator="e")]

_EVENT: TypeAdapter[NodeEvent] = TypeAdapter(NodeEvent)


def encode_event(event: NodeEvent) -> str:
    """*event* as its line (JSON, UTF-8 text, no newline)."""
    return event.model_dump_json()


def parse_event(line: str) -> NodeEvent:
    """The event on *line*; MalformedError saying what is wrong if it is not JSON, names no
    known kind, or lacks a field its kind needs."""
    try:
        return _EVENT.validate_json(line)
    except ValidationError as exc:
        problem = exc.errors()[0]
        if problem["type"] == "json_invalid":
            raise MalformedError(f"not a node event (not JSON): {line.strip()[:80]!r}") from None
        if problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
            raise MalformedError(f"not a node event (unknown kind): {line.strip()[:80]!r}") from None
        where = ".".join(str(p) for p in problem["loc"])
        why = f"{where}: {problem['msg']}" if where else problem["msg"]
        raise MalformedError(f"malformed node event ({why}): {line.strip()[:80]!r}") from None
