"""An operator's changes to an account, as ``exchange users`` and the people page both make them:
what each does to the account's sessions and tokens, and the words each side shows."""

from __future__ import annotations

import pytest

from exchange.errors import InputError, NotAuthenticatedError, NotFoundError
from exchange.hub.people import AccountAction, Accounts, Role, change_account

from hub.people.conftest import PASSWORD, T0

NEW_PASSWORD = "another horse battery staple"


@pytest.fixture
def lan(accounts: Accounts) -> str:
    accounts.add(name="lan", role=Role.AUDITOR, password=PASSWORD, at=T0)
    return "lan"


def test_disabling_ends_sessions_and_tokens_and_enabling_lets_the_person_back(accounts: Accounts, lan: str) -> None:
    session = accounts.login(lan, PASSWORD, at=T0).secret
    token = accounts.issue_token(lan, at=T0).secret
    change = change_account(accounts, AccountAction.DISABLE, lan)
    assert not change.account.active and change.done == "disabled lan"
    assert change.message() == "disabled lan: its sessions and tokens are ended"
    for secret in (session, token):
        with pytest.raises(NotAuthenticatedError):
            accounts.viewer(secret, at=T0)
    with pytest.raises(NotAuthenticatedError):
        accounts.login(lan, PASSWORD, at=T0)

    enabled = change_account(accounts, AccountAction.ENABLE, lan)
    assert enabled.account.active and enabled.message() == enabled.done == "enabled lan"
    assert accounts.viewer(accounts.login(lan, PASSWORD, at=T0).secret, at=T0).name == lan


def test_a_new_password_ends_the_old_sessions_and_only_it_opens_new_ones(accounts: Accounts, lan: str) -> None:
    session = accounts.login(lan, PASSWORD, at=T0).secret
    change = change_account(accounts, AccountAction.RESET, lan, password=NEW_PASSWORD)
    assert change.done == "new password set for lan"
    assert change.message().endswith("its sessions and tokens are ended, any lock-out lifted")
    with pytest.raises(NotAuthenticatedError):
        accounts.viewer(session, at=T0)
    with pytest.raises(NotAuthenticatedError):
        accounts.login(lan, PASSWORD, at=T0)
    assert accounts.login(lan, NEW_PASSWORD, at=T0).viewer.name == lan


def test_a_reset_needs_a_good_password_and_an_unknown_account_is_not_found(accounts: Accounts, lan: str) -> None:
    with pytest.raises(InputError, match="new password is needed"):
        change_account(accounts, AccountAction.RESET, lan)
    with pytest.raises(InputError) as weak:
        change_account(accounts, AccountAction.RESET, lan, password="short")
    assert weak.value.code == "weak-password"
    for action in AccountAction:
        with pytest.raises(NotFoundError):
            change_account(accounts, action, "nobody", password=NEW_PASSWORD)
    assert AccountAction.DISABLE.target("lan") == "disable lan"  # the access log's name for it
