"""A normal hub (no ``--training``): no trainer's buttons on the pages, and the training
endpoints answer JSON errors, never act. In-process: no browser is needed to see that."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exchange.hub import HubSettings
from exchange.pki import KeyStore

from hub.inprocess import InProcessHub


@pytest.fixture
def normal_hub(pki, tmp_path: Path) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    settings = HubSettings(keys_dir=pki.dir, data_dir=tmp_path / "hub", bodies_file=pki.bodies_file)
    with InProcessHub(settings, KeyStore(pki.dir)) as hub:
        yield hub.person("trainer")


def test_a_normal_hub_shows_no_training_buttons(normal_hub: httpx.Client) -> None:
    page = normal_hub.get("/")
    assert page.status_code == 200
    assert 'id="training"' not in page.text and "/training/send" not in page.text
    assert "Training mode" not in page.text


@pytest.mark.parametrize("path", ["/training/send", "/training/acknowledge"])
def test_the_training_endpoints_answer_404_json_when_training_is_off(normal_hub: httpx.Client, path: str) -> None:
    response = normal_hub.post(path, data={"sender": "central-office", "recipient": "ha-noi",
                                           "sample": "01-cong-van-bao-cao-cntt.pdf", "mode": "signed"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["code"] == "not-found" and "--training" in response.json()["message"]
    assert normal_hub.get("/api/register").json()["entries"] == []  # nothing was sent


def test_a_trainer_is_needed_for_the_training_actions(pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = HubSettings(keys_dir=pki.dir, data_dir=tmp_path / "hub", bodies_file=pki.bodies_file, training=True)
    form = {"sender": "central-office", "recipient": "ha-noi", "sample": "01-cong-van-bao-cao-cntt.pdf",
            "mode": "signed"}
    with InProcessHub(settings, KeyStore(pki.dir)) as hub:
        assert hub.http().post("/training/send", data=form).json()["code"] == "not-logged-in"
        refused = hub.person("auditor").post("/training/send", data=form)
        assert (refused.status_code, refused.json()["code"]) == (403, "role-not-allowed")
        assert 'id="training"' not in hub.person("auditor").get("/").text  # no buttons for an auditor
        assert 'id="training"' in hub.person("trainer").get("/").text
        assert hub.person("auditor").get("/api/register").json()["entries"] == []


def test_a_page_error_is_a_page_and_an_api_error_stays_json(normal_hub: httpx.Client) -> None:
    for path, status, words in (("/documents?period=nonsense", 400, "nonsense"),
                                ("/?period=2015-13", 400, "2015-13"),
                                ("/documents?page=abc", 400, "page"),
                                ("/bodies/no-such-body", 404, "no-such-body"),
                                ("/documents/unknown", 404, "unknown"),
                                ("/documents/unknown/workflow", 404, "unknown"),
                                ("/no-such-page", 404, "no page")):
        response = normal_hub.get(path)
        assert (response.status_code, response.headers["content-type"][:9]) == (status, "text/html"), path
        assert words in response.text, path
    api = normal_hub.get("/api/measures", params={"period": "nonsense"})
    assert api.status_code == 400 and api.json()["code"]
    assert normal_hub.get("/api/no-such-endpoint").json()["code"] == "not-found"
