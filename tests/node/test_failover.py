"""HubClient given several hub URLs: the next hub when one is down, the same message id resent,
and the hub in use kept once it answers."""

from __future__ import annotations

import json

import httpx
import pytest
from node.test_client import CREATED, FAST, META, FakeHub, parts

from exchange.errors import InputError, TransportError
from exchange.node import HubClient, RetryPolicy
from exchange.node.failover import FailoverTransport, hub_urls


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    delays: list[float] = []
    monkeypatch.setattr("exchange.node.client.time.sleep", delays.append)
    return delays


class Hubs:
    """Several fake hubs behind one mock transport, told apart by host."""

    def __init__(self, **hubs: FakeHub) -> None:
        self.hubs = hubs
        self.hosts: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.removesuffix(".test")
        self.hosts.append(host)
        return self.hubs[host](request)


def client(hubs: Hubs, credential, now, *, urls: str = "http://a.test,http://b.test",  # type: ignore[no-untyped-def]
           retry: RetryPolicy = FAST) -> HubClient:
    return HubClient(urls, credential=credential, transport=httpx.MockTransport(hubs), retry=retry,
                     clock=lambda: now)


@pytest.mark.parametrize("down", [httpx.ConnectError("connection refused"), httpx.ReadError("connection reset"),
                                  httpx.ReadTimeout("timed out"), httpx.Response(502), httpx.Response(503),
                                  httpx.Response(504)], ids=str)
def test_a_send_moves_to_the_next_hub_at_once_with_the_same_message_id(credential, now, no_sleep, down):
    first, second = FakeHub(now=now, script=[down]), FakeHub(now=now, script=[CREATED])
    hubs = Hubs(a=first, b=second)
    with client(hubs, credential, now) as node:
        assert node.send(b"%PDF body", metadata=META) == CREATED.json()
        assert node.hub_in_use == "http://b.test"
    sent = [parts(r) for r in first.requests + second.requests]
    assert [json.loads(p["metadata"])["message_id"] for p in sent] == ["msg-42", "msg-42"]
    assert len({p["signature"] for p in sent}) == 1 and {p["file"] for p in sent} == {b"%PDF body"}
    assert no_sleep == []  # another hub is tried at once, not after a backoff


def test_the_client_stays_on_the_hub_that_answered(credential, now):
    first = FakeHub(now=now, script=[httpx.ConnectError("refused")])
    second = FakeHub(now=now, script=[httpx.Response(200, json=[])] * 3)
    hubs = Hubs(a=first, b=second)
    with client(hubs, credential, now) as node:
        for _ in range(3):
            assert node.inbox() == []
    assert len(first.requests) == 1 and len(second.requests) == 3


def test_a_4xx_is_the_hubs_answer_not_a_reason_to_move(credential, now):
    first = FakeHub(now=now, script=[httpx.Response(409, json={"code": "message-id-reused", "message": "no"})])
    hubs = Hubs(a=first, b=FakeHub(now=now, script=[]))
    with client(hubs, credential, now) as node, pytest.raises(Exception, match="message-id-reused"):
        node.send(b"x", metadata=META)
    assert node.hub_in_use == "http://a.test"


def test_every_hub_down_is_retried_in_passes_then_one_error_naming_them(credential, now, no_sleep):
    refused = httpx.ConnectError("connection refused")
    hubs = Hubs(a=FakeHub(now=now, script=[refused] * 3), b=FakeHub(now=now, script=[refused] * 3))
    retry = RetryPolicy(attempts=3, backoff=0.1, jitter=0.0)
    with client(hubs, credential, now, retry=retry) as node, pytest.raises(TransportError) as failed:
        node.inbox()
    assert "http://a.test or http://b.test" in failed.value.message
    assert [len(hub.requests) for hub in hubs.hubs.values()] == [3, 3]  # one pass over both is one attempt
    assert no_sleep == [0.1, 0.2]


def test_a_hub_with_a_path_prefix_gets_its_own_prefix():
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "a.test":
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={"ok": True})

    transport = FailoverTransport(["http://a.test/hub", "https://b.test:8443/exchange"],
                                  transport=httpx.MockTransport(answer))
    with httpx.Client(base_url="http://a.test/hub", transport=transport) as http:
        assert http.get("/api/health", params={"x": "1"}).json() == {"ok": True}
    assert seen == ["http://a.test/hub/api/health?x=1", "https://b.test:8443/exchange/api/health?x=1"]


@pytest.mark.parametrize("text", ["", " , ", "hub.example:8000", "ftp://hub.example", "http://"])
def test_hub_urls_refuse_what_is_no_hub_url(text):
    with pytest.raises(InputError):
        hub_urls(text)


def test_hub_urls_split_on_commas():
    assert hub_urls(" http://a:8001/ ,https://b:8002") == ("http://a:8001", "https://b:8002")
