"""The web pages (``/``, ``/bodies``, ``/documents``…), the live counts and the training actions.

Routes stay a few lines: read the query, build the page's view, render it. Every page needs a
logged-in person (:mod:`exchange.hub.gate`); a clerk sees only its body's documents, and no
one a secret document's content. Each document shown is written to the access log. The
training endpoints answer 404 unless the hub runs with ``--training``, and need a trainer.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.templating import Jinja2Templates

from exchange.domain.documents import ReceiptStatus
from exchange.errors import ExchangeError, InputError, NotAuthorizedError, NotFoundError
from exchange.hub.deps import NowDep, ServiceDep
from exchange.hub.errors import status_for
from exchange.hub.gate import (
    AccessLogDep,
    ViewerDep,
    check_csrf,
    current_viewer,
    record_view,
)
from exchange.hub.openapi import errors
from exchange.hub.people import Permission, Viewer
from exchange.hub.routes.log import checkpoint_public
from exchange.hub.service import MAX_OFFSET, ExchangeService
from exchange.hub.web.bodies import BodiesPage, BodyPage
from exchange.hub.web.documents import (
    DocumentPage,
    body_name,
    channel_words,
    delivery_status,
    validity_key,
)
from exchange.hub.web.edxml import document_as_edxml
from exchange.hub.web.layers import SecretLayers
from exchange.hub.web.overview import Live, OverviewPage
from exchange.hub.web.register import PAGE_SIZE, Filters, RegisterPage
from exchange.hub.web.training import (
    MODES,
    Trainer,
    edxml_sample,
    edxml_samples,
    list_samples,
    samples_dir,
)
from exchange.hub.web.workflow import WorkflowPage
from exchange.metrics import BUILTIN_PROFILES

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_viewer)])
live_router = APIRouter(prefix="/api", tags=["dashboard"], dependencies=[Depends(current_viewer)],
                          responses=errors(401))


def get_templates(request: Request) -> Jinja2Templates:
    """The app's Jinja2 templates (a dependency: ``TemplatesDep``)."""
    return request.app.state.templates  # type: ignore[no-any-return]


def training_on(request: Request) -> bool:
    """Whether the hub serves with ``--training`` (the trainer's panel and its forms)."""
    settings = getattr(request.app.state, "settings", None)
    return bool(getattr(settings, "training", False))


TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
TrainingDep = Annotated[bool, Depends(training_on)]


def require_training(request: Request, viewer: ViewerDep) -> None:
    """404 unless training mode is on; a trainer only; refuse a form posted from another site
    (Origin, Fetch metadata; the session's CSRF token is checked by ``check_csrf``)."""
    if not training_on(request):
        raise NotFoundError("training mode is off on this hub (start it with --training)")
    viewer.require(Permission.TRAIN)
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise NotAuthorizedError("training actions are accepted only from the hub's own pages")
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise NotAuthorizedError("training actions are accepted only from the hub's own pages")


def render(request: Request, templates: Jinja2Templates, name: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """The page *name* rendered with *context* plus what every page shows (the viewer, the
    bodies, training mode)."""
    service: ExchangeService = request.app.state.service
    bodies = service.bodies
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    trainer = viewer is not None and viewer.can(Permission.TRAIN)
    base = {"training": training_on(request) and trainer, "training_mode": training_on(request), "bodies": bodies, "name": lambda i: body_name(bodies, i),
            "channel_words": channel_words, "validity_key": validity_key, "delivery_status": delivery_status,
            "path": request.url.path, "viewer": viewer, "csrf": viewer.csrf if viewer else "",
            "can": (lambda p: viewer is not None and viewer.can(Permission(p)))}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def _status(error: str | None) -> int:
    """400 when the page could not read its query (it still renders, with the reason and a
    default in its place, so the user can correct the value in the form)."""
    return 400 if error else 200


def _profile(name: str | None) -> str:
    return name if name in BUILTIN_PROFILES else "2015"


# -- pages ------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, service: ServiceDep, templates: TemplatesDep, at: NowDep, viewer: ViewerDep,
             period: str | None = None, profile: str | None = None) -> HTMLResponse:
    """The dashboard (``/``): K1–K3 for the chosen period and profile, the trend, who is furthest
    behind, live counts."""
    page = OverviewPage.build(service, period_text=period, at=at, profile_name=_profile(profile))
    extra: dict[str, Any] = {}
    if training_on(request) and viewer.can(Permission.TRAIN):
        awaiting, _ = service.find_documents(status="awaiting", limit=30)
        extra = {"samples": list_samples(samples_dir()), "modes": MODES, "awaiting": awaiting,
                 "statuses": list(ReceiptStatus), "edxml_samples": edxml_samples()}
    evidence = getattr(request.app.state, "evidence", None)
    checkpoint = checkpoint_public(evidence.checkpoint(at=at)) if evidence is not None else None
    return render(request, templates, "overview.html", _status(page.picker.error), page=page, title="Overview",
                  checkpoint=checkpoint, **extra)


@router.get("/bodies", response_class=HTMLResponse)
def bodies(request: Request, service: ServiceDep, templates: TemplatesDep, at: NowDep,
           period: str | None = None, kind: str | None = None) -> HTMLResponse:
    """The bodies page: each body's traffic, K1 over what it sent, K2 standing, receipts and
    certificate, by kind."""
    page = BodiesPage.build(service, period_text=period, kind=kind, at=at)
    return render(request, templates, "bodies.html", _status(page.picker.error), page=page, title="Bodies")


@router.get("/bodies/{body_id}", response_class=HTMLResponse)
def body(request: Request, body_id: str, service: ServiceDep, templates: TemplatesDep, at: NowDep,
         viewer: ViewerDep, period: str | None = None) -> HTMLResponse:
    """One body's page: its measures, rank, certificate and documents; a clerk sees only its own
    body (403 otherwise)."""
    if body_id not in service.bodies:
        raise NotFoundError(f"no body {body_id!r} at this hub")
    if viewer.scope not in (None, body_id):  # the page lists the body's documents
        raise NotAuthorizedError(f"{viewer.name} is a clerk of {viewer.scope}, not of {body_id}", code="other-body")
    page = BodyPage.build(service, body_id, period_text=period, at=at)
    return render(request, templates, "body.html", _status(page.picker.error), page=page, title=page.body.name_vi)


@router.get("/documents", response_class=HTMLResponse)
def documents(request: Request, service: ServiceDep, templates: TemplatesDep, viewer: ViewerDep,
              period: str = "", channel: str = "", sender: str = "", recipient: str = "", validity: str = "",
              status: str = "", page: Annotated[int, Query(ge=1, le=MAX_OFFSET // PAGE_SIZE)] = 1) -> HTMLResponse:
    """The register: documents by period, channel, sender, recipient, validity and status, a page
    at a time (a clerk's: its body's only)."""
    filters = Filters(period.strip(), channel, sender, recipient, validity, status)
    view = RegisterPage.build(service, filters, page=page, body=viewer.scope)
    return render(request, templates, "documents.html", _status(view.error), page=view, title="Documents")


@router.get("/documents/{document_id}", response_class=HTMLResponse)
async def document(request: Request, document_id: str, service: ServiceDep, templates: TemplatesDep,
                   viewer: ViewerDep, log: AccessLogDep, at: NowDep) -> HTMLResponse:
    """One document's page: its validation report, receipts, business events and log entries (the
    view is written to the access log)."""
    page = await run_in_threadpool(DocumentPage.build, service, document_id, viewer=viewer, at=at)  # 404, 403
    await record_view(request, log, viewer, page.doc.id, at=at)
    return render(request, templates, "document.html", page=page, title=page.doc.number or "Document",
                  statuses=list(ReceiptStatus))


@router.get("/documents/{document_id}/workflow", response_class=HTMLResponse)
async def workflow(request: Request, document_id: str, service: ServiceDep, templates: TemplatesDep,
                   viewer: ViewerDep, log: AccessLogDep, at: NowDep,
                   sent: str | None = None, acknowledged: str | None = None) -> HTMLResponse:
    """One document's workflow: who sent, fetched and acknowledged it when (the view is written
    to the access log)."""
    page = await run_in_threadpool(DocumentPage.build, service, document_id, viewer=viewer, at=at)  # 404, 403
    await record_view(request, log, viewer, page.doc.id, at=at)
    flow = WorkflowPage.build(page, service.bodies)
    layers = SecretLayers.build(service, page.doc, service.bodies)
    return render(request, templates, "workflow.html", flow=flow, page=page, title="Workflow", layers=layers,
                  sent_mode=MODES.get(sent or ""), acknowledged=acknowledged, statuses=list(ReceiptStatus))


@router.get("/documents/{document_id}/edxml")
async def document_edxml(request: Request, document_id: str, service: ServiceDep, viewer: ViewerDep,
                         log: AccessLogDep, at: NowDep) -> Response:
    """The document as an edXML package (QCVN 102:2016), XML-signed by the hub."""
    name, data = await run_in_threadpool(document_as_edxml, service, document_id=document_id, viewer=viewer, at=at)
    await record_view(request, log, viewer, document_id, at=at)
    return Response(data, media_type="application/xml",
                    headers={"Content-Disposition": f"attachment; filename=\"{quote(name)}\""})


@router.get("/incoming/edxml/{import_id}", response_class=HTMLResponse)
def incoming_edxml(request: Request, import_id: str, service: ServiceDep, templates: TemplatesDep,
                   viewer: ViewerDep) -> HTMLResponse:
    """An imported package's header fields, as the outside agency sent them."""
    viewer.require(Permission.REGISTER)
    item = service.edxml_import(import_id=import_id)
    viewer.require_document(item.id, sender=item.body, recipients=())
    return render(request, templates, "edxml_import.html", item=item, title=f"edXML from {item.from_organ}")


# -- live counts (polled by the pages while a demo runs) -------------------------------------


@live_router.get("/activity")
def activity(service: ServiceDep, at: NowDep) -> dict[str, Any]:
    """Live counts and a ``version`` that changes whenever the hub records anything."""
    return Live.read(service, at=at).to_dict()


# -- training mode ----------------------------------------------------------------------------


@router.post("/training/send", dependencies=[Depends(require_training), Depends(check_csrf)])
def training_send(request: Request, service: ServiceDep, templates: TemplatesDep, at: NowDep,
                  sender: Annotated[str, Form()],
                  recipient: Annotated[str, Form()], sample: Annotated[str, Form()],
                  mode: Annotated[str, Form()], classification: Annotated[str, Form()] = "normal") -> Response:
    """Send a sample document as a node would; then show its workflow (accepted or refused)."""
    try:
        outcome = Trainer(service, samples=samples_dir()).send(
            sender=sender, recipient=recipient, sample=sample, mode=mode, classification=classification, at=at)
    except ExchangeError as exc:  # the HTML edge: the trainer sees the reason on a page
        return _training_error(request, templates, exc)
    return RedirectResponse(f"/documents/{quote(outcome.document_id)}/workflow?sent={quote(mode)}",
                            status_code=303)


@router.post("/training/acknowledge", dependencies=[Depends(require_training), Depends(check_csrf)])
def training_acknowledge(request: Request, service: ServiceDep, templates: TemplatesDep, at: NowDep,
                         document_id: Annotated[str, Form()] = "",
                         recipient: Annotated[str, Form()] = "", target: Annotated[str, Form()] = "",
                         status: Annotated[str, Form()] = "") -> Response:
    """The receiver fetches, verifies itself and sends a signed receipt (status chosen or by verdict).

    Either *document_id* and *recipient*, or *target* as ``DOCUMENT_ID|RECIPIENT`` (one select).
    """
    if target:
        document_id, _, recipient = target.partition("|")
    try:
        if not document_id or not recipient:
            raise InputError("choose a document and the receiver that acknowledges it")
        chosen = ReceiptStatus.parse(status) if status else None
        Trainer(service, samples=samples_dir()).acknowledge(document_id=document_id, recipient=recipient,
                                                            status=chosen, at=at)
    except ExchangeError as exc:  # the HTML edge: the trainer sees the reason on a page
        return _training_error(request, templates, exc)
    return RedirectResponse(f"/documents/{quote(document_id)}/workflow?acknowledged={quote(recipient)}",
                            status_code=303)


@router.post("/training/import-edxml", dependencies=[Depends(require_training), Depends(check_csrf)])
def training_import_edxml(request: Request, service: ServiceDep, templates: TemplatesDep, at: NowDep,
                          body: Annotated[str, Form()], package: Annotated[str, Form()]) -> Response:
    """Register a sample edXML package from an outside agency at a body; show what it said."""
    try:
        data = edxml_sample(package)
        item = service.register_edxml(body=body, data=data, at=at)
    except ExchangeError as exc:  # the HTML edge: the trainer sees the reason on a page
        return _training_error(request, templates, exc)
    return RedirectResponse(f"/incoming/edxml/{quote(item.id)}", status_code=303)


def _training_error(request: Request, templates: Jinja2Templates, exc: ExchangeError) -> Response:
    return render(request, templates, "training_error.html", status_for(exc), error=exc, title="Not done")
