"""People at the hub: accounts and roles (separate from the bodies' certificates), login
sessions and tokens, and the access log. Plain Python over the hub's database; the HTTP side
(cookies, CSRF, the pages) is :mod:`exchange.hub.gate` and :mod:`exchange.hub.web`."""

from exchange.hub.people.access_log import (
    AccessLog,
    AccessRecord,
    Action,
    ActorKind,
    RepeatedRefusals,
)
from exchange.hub.people.accounts import AccountInfo, Accounts, LoginPolicy, Opened
from exchange.hub.people.changes import AccountAction, AccountChange, change_account
from exchange.hub.people.passwords import Passwords, generate_password
from exchange.hub.people.roles import Permission, Role, Viewer

__all__ = [
    "AccessLog", "AccessRecord", "AccountAction", "AccountChange", "AccountInfo", "Accounts", "Action",
    "ActorKind", "LoginPolicy", "Opened", "Passwords", "Permission", "RepeatedRefusals", "Role", "Viewer",
    "change_account", "generate_password",
]
