"""Webhooks, the parts the API (subscriptions) and the worker (deliveries) share: the
Standard Webhooks secret and signature, and which target addresses are safe.

Signature (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of a random key;
the database keeps the key sealed (AES-GCM under IID_WEBHOOK_SECRET_KEY, which the API and the
worker share), so a copy of the database alone cannot sign a delivery;
each attempt carries `webhook-id` (the delivery's id: the same on every attempt, so a receiver
drops duplicates), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature`
`v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, which any Standard Webhooks
library verifies (docs/webhooks.md has the receiver's recipe).

Safe targets: the worker connects only to addresses on the public internet. Loopback, private,
link-local, cloud metadata and other non-global addresses are refused (IPv4 inside IPv6 is
unwrapped first); loopback only when `webhook_allow_loopback` is set (development, tests).
The worker checks the address it resolved and connects to that very address
(iid_worker.webhooks.targets), so a DNS answer that changes between a check and the
connection cannot smuggle a private address in.
"""

import base64
import hashlib
import hmac
import ipaddress
import secrets
from typing import Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_PREFIX: Final = "whsec_"
SECRET_BYTES: Final = 32
SEALED_PREFIX: Final = "sealed:"
NONCE_BYTES: Final = 12
# Seals the secrets in the database. Fine on a laptop, refused in production (it is here).
DEFAULT_WEBHOOK_SECRET_KEY: Final = "iid-development-webhook-key-not-for-production"

# Cloud metadata services: named as such in the refusal (most are link-local anyway).
METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookSettings(BaseSettings):
    """Shared by the API (it checks a subscription's URL) and the worker (it connects)."""

    model_config = SettingsConfigDict(env_prefix="IID_", env_file=".env", extra="ignore")

    # Deliver to loopback addresses (127.0.0.0/8, ::1) too: development and tests only.
    webhook_allow_loopback: bool = False
    # Seals the subscriptions' signing secrets in the database (32 characters or more, random)
    webhook_secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_WEBHOOK_SECRET_KEY), min_length=32
    )


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _cipher(key: SecretStr) -> AESGCM:
    return AESGCM(hashlib.sha256(key.get_secret_value().encode()).digest())


def seal_secret(secret: str, key: SecretStr) -> str:
    """What the database keeps of a secret: its key encrypted, with a fresh nonce."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _cipher(key).encrypt(nonce, base64.b64decode(secret.removeprefix(SECRET_PREFIX)), None)
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode()


def open_secret(stored: str, key: SecretStr) -> str:
    """The secret a stored value holds; one stored before secrets were sealed is the secret."""
    if not stored.startswith(SEALED_PREFIX):
        return stored
    blob = base64.b64decode(stored.removeprefix(SEALED_PREFIX))
    key_bytes = _cipher(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], None)
    return SECRET_PREFIX + base64.b64encode(key_bytes).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header's value."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _unwrapped(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
    return address


def refused_address(text: str, *, allow_loopback: bool) -> str | None:
    """Why a delivery may not go to the address `text` (loopback, private, link_local,
    metadata, not_global); None when it may."""
    address = _unwrapped(ipaddress.ip_address(text.split("%", 1)[0]))
    if address in METADATA_ADDRESSES:
        return "metadata"
    if address.is_unspecified:  # 0.0.0.0 and :: reach the machine itself
        return "not_global"
    if address.is_loopback:
        return None if allow_loopback else "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_private:
        return "private"
    if not address.is_global or address.is_multicast:
        return "not_global"
    return None
