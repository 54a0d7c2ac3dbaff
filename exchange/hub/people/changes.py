"""What an operator does to an existing account: disable it, enable it, set a new password.

``exchange users`` and the people page (``/users``) both make these changes through
:func:`change_account`, so the two cannot drift: the same effect on sessions and tokens, the
same name for the access log, the same words for what was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from exchange.errors import InputError
from exchange.hub.people.accounts import AccountInfo, Accounts


class AccountAction(Enum):
    """A change an operator makes to an existing account (adding one is :meth:`Accounts.add`)."""

    DISABLE = "disable"  # it can no longer log in; its sessions and tokens end now
    ENABLE = "enable"  # a disabled account may log in again
    RESET = "reset"  # a new password; its sessions and tokens end, a lock-out is lifted

    def target(self, name: str) -> str:
        """How the access log names this action on account *name* (``disable lan``)."""
        return f"{self.value} {name}"


@dataclass(frozen=True)
class AccountChange:
    """What a change did: the account as it is now, what was done (``disabled lan``: the CLI's
    line) and what follows from it for the account's holder (empty when nothing does)."""

    account: AccountInfo
    done: str
    consequence: str = ""

    def message(self) -> str:
        """What was done and what follows, as the people page says it."""
        return f"{self.done}: {self.consequence}" if self.consequence else self.done


def change_account(accounts: Accounts, action: AccountAction, name: str, *,
                   password: str | None = None) -> AccountChange:
    """Apply *action* to the account *name* (*password*: the new one, for RESET only).

    Raises NotFoundError for an unknown account, InputError for a RESET without a password or
    with one too weak (:func:`exchange.hub.people.passwords.check_new_password`).
    """
    if action is AccountAction.RESET:
        if password is None:
            raise InputError("a new password is needed to reset an account")
        info = accounts.reset(name, password=password)
        return AccountChange(info, f"new password set for {name}",
                             "its sessions and tokens are ended, any lock-out lifted")
    info = accounts.set_active(name, action is AccountAction.ENABLE)
    if action is AccountAction.ENABLE:
        return AccountChange(info, f"enabled {name}")
    return AccountChange(info, f"disabled {name}", "its sessions and tokens are ended")
