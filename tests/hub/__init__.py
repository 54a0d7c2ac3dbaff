"""Tests of :mod:`exchange.hub`: the service, its parts, and the JSON API in-process."""
