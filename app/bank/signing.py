"""Standard Webhooks signatures (standardwebhooks.com), both directions (API.md).

`webhook-signature` = space-separated `v1,<base64 HMAC-SHA256(secret, "{id}.{ts}.{body}")>`;
the secret is written `whsec_<base64>`; the timestamp must be within 300 s of our clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

TOLERANCE_S = 300
SIGNATURES_MAX = 10


class SignatureError(ValueError):
    pass


def secret_key(secret: str) -> bytes:
    if not secret.startswith("whsec_"):
        raise SignatureError("secrets are written whsec_<base64>")
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, now: datetime, body: bytes) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify(
    secrets: list[str], request_headers: Mapping[str, str], body: bytes, now: datetime
) -> str:
    """Check headers, timestamp and signature (constant time); returns the message id.
    `secrets` may hold several (rotation)."""
    message_id = request_headers.get("webhook-id")
    timestamp_text = request_headers.get("webhook-timestamp")
    signature_header = request_headers.get("webhook-signature")
    if not message_id or not timestamp_text or not signature_header:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise SignatureError("webhook-timestamp is not unix seconds") from None
    if abs(now.timestamp() - timestamp) > TOLERANCE_S:
        raise SignatureError("webhook-timestamp is more than 300 s from our clock")
    offered = [
        part.split(",", 1)[1]
        for part in signature_header.split(" ")[:SIGNATURES_MAX]
        if part.startswith("v1,")
    ]
    for secret in secrets:
        expected = sign(secret, message_id, timestamp, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in offered):
            return message_id
    raise SignatureError("no valid signature")
