"""Tests of :mod:`exchange.wire`: the messages between the hub, its clients and the demo's nodes."""
