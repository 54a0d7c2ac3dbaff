"""Mutual TLS (``hub serve --mtls``): the node's TLS client certificate, bound to its token.

With ``--mtls`` the TLS layer already refuses a client without a certificate that chains to
the demo root. Above it, every authenticated request must come over a connection whose
client certificate names (subject ``UID``) the body the bearer token was issued to: a token
copied to another machine is useless without that body's client key.

uvicorn does not put the peer certificate in the ASGI scope, so :class:`PeerCertificateProtocol`
(uvicorn's HTTP protocol, given to it as ``http=``) adds it, per connection, as the ``tls``
extension's ``client_cert_der``.
"""

from __future__ import annotations

from typing import Any, cast

from cryptography import x509
from starlette.requests import Request
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from exchange.errors import NotAuthenticatedError, NotAuthorizedError
from exchange.hub.auth import Principal
from exchange.pki.certificates import body_id_of


class PeerCertificateProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol, passing the TLS client certificate to the app in the scope."""

    def connection_made(self, transport: Any) -> None:  # noqa: ANN401 - asyncio's transport
        """Accept the TLS connection and hand its client certificate (DER) to every request on
        it, in the ASGI scope's ``tls`` extension."""
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der is None:
            return
        inner: Any = cast("Any", self).app  # uvicorn leaves the attribute unannotated

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: ANN401
            """The application, with this connection's client certificate in each request's
            scope."""
            scope.setdefault("extensions", {})["tls"] = {"client_cert_der": der}
            await inner(scope, receive, send)

        self.app = app


def client_certificate(request: Request) -> x509.Certificate | None:
    """The TLS client certificate of the request's connection, if the server passed one."""
    der = (request.scope.get("extensions") or {}).get("tls", {}).get("client_cert_der")
    return x509.load_der_x509_certificate(der) if der else None


def check_binding(request: Request, principal: Principal) -> None:
    """Raise unless the connection's client certificate names the token's body.

    NotAuthenticatedError (``client-certificate-required``) without one; NotAuthorizedError
    (``client-certificate-mismatch``) when it names another body.
    """
    cert = client_certificate(request)
    if cert is None:
        raise NotAuthenticatedError("this hub requires a TLS client certificate (mutual TLS)",
                                    code="client-certificate-required")
    named = body_id_of(cert)
    if named != principal.body_id:
        raise NotAuthorizedError(f"the token is for {principal.body_id} but the TLS client certificate names "
                                 f"{named or 'no body'}", code="client-certificate-mismatch")
