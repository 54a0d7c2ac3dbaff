"""Tests of :mod:`exchange.node`: the hub client (retries, errors) and the receiving agent."""
