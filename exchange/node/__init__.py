"""The node side: an HTTP client for the hub and what a receiving body does with documents."""

from exchange.node.agent import Fetched, acknowledge, fetch, node_verifier
from exchange.node.client import HubClient, HubReader, RetryPolicy, hub_trust
from exchange.node.secret import send_secret

__all__ = ["Fetched", "HubClient", "HubReader", "RetryPolicy", "acknowledge", "fetch", "hub_trust", "node_verifier",
           "send_secret"]
