"""Schemathesis hooks for ``test_openapi_fuzz.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

``POST /api/tsa`` takes ``application/timestamp-query``, a DER ``TimeStampReq``, which
schemathesis cannot make by itself: this draws real requests (any SHA-256 imprint, with or
without a nonce and ``certReq``, our policy or another) and, as often, bytes that are none.
"""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

from exchange.cms.tsa import POLICY, build_request

requests = st.builds(
    lambda digest, nonce, cert_req, policy: build_request(digest, nonce=nonce, cert_req=cert_req, policy=policy),
    st.binary(min_size=32, max_size=32),
    st.one_of(st.none(), st.integers(min_value=0, max_value=2**64)),
    st.booleans(),
    st.sampled_from([None, POLICY, "1.2.3.4"]),
)
schemathesis.openapi.media_type("application/timestamp-query", st.one_of(requests, st.binary(max_size=64)))
