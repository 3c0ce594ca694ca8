"""Safe webhook targets: every refused kind of address, by itself, behind a name, inside IPv6,
after a DNS change, and as a redirect; the connection goes to the address that was checked.

No test here ever connects anywhere but loopback: the backend under the check refuses (and
fails the test for) any other address it is asked to reach."""

import uuid
from collections.abc import Iterable
from typing import Any

import httpcore
import pytest
from httpx import AsyncClient
from pydantic import SecretStr

from iid_api.kit.errors import InvalidInput
from iid_api.settings import Settings as ApiSettings
from iid_api.webhooks.service import check_target
from iid_store.webhooks import WebhookSettings, refused_address, seal_secret
from iid_worker.webhooks.delivery import Due, Sender
from iid_worker.webhooks.targets import RefusedTarget, SafeTargets
from tests.api.support import problem
from tests.worker.webhook_receiver import Receiver, serving

REFUSED = {
    "loopback": ["127.0.0.1", "127.8.9.10", "::1"],
    "private": ["10.0.0.1", "172.16.5.4", "192.168.1.1", "fd12:3456::1", "::ffff:10.1.2.3"],
    "link_local": ["169.254.10.20", "fe80::1", "fe80::1%eth0"],
    "metadata": [
        "169.254.169.254",
        "169.254.170.2",
        "100.100.100.200",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",  # IPv4-mapped
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
    "not_global": ["100.64.0.1", "0.0.0.0", "::", "224.0.0.1", "ff02::1"],
}
PUBLIC = ["93.184.216.34", "36.86.63.182", "2606:2800:220:1:248:1893:25c8:1946"]


class LoopbackOnly(httpcore.AsyncNetworkBackend):
    """The backend under the check: records what it is asked to reach, connects to loopback
    only, and fails the test for anything else (this machine must not send elsewhere)."""

    def __init__(self, claims_peer: str | None = None) -> None:
        self.asked: list[str] = []
        self.claims_peer = claims_peer
        self.real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.asked.append(host)
        assert refused_address(host, allow_loopback=True) is None
        if self.claims_peer is not None:
            return _Peer(self.claims_peer)
        assert host in ("127.0.0.1", "::1"), f"a test tried to reach {host}"
        return await self.real.connect_tcp(host, port, timeout, local_address, socket_options)


class _Peer(httpcore.AsyncMockStream):
    """A connection whose other end turns out to be `address` (a middlebox, a NAT)."""

    def __init__(self, address: str) -> None:
        super().__init__([])
        self.address = address
        self.closed = False

    def get_extra_info(self, info: str) -> Any:
        return (self.address, 443) if info == "server_addr" else None

    async def aclose(self) -> None:
        self.closed = True


def _resolving(*answers: list[str]) -> Any:
    """A resolver giving each answer in turn (the last one from then on)."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    return resolve


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_each_refused_kind_of_address(kind: str) -> None:
    for address in REFUSED[kind]:
        assert refused_address(address, allow_loopback=False) == kind, address
    for address in PUBLIC:
        assert refused_address(address, allow_loopback=False) is None
    # the development setting opens loopback, and nothing else
    expected = None if kind == "loopback" else kind
    assert {refused_address(a, allow_loopback=True) for a in REFUSED[kind]} == {expected}


@pytest.mark.parametrize("kind", sorted(set(REFUSED) - {"loopback"}))
async def test_a_name_resolving_to_a_refused_address_is_never_connected(kind: str) -> None:
    for address in REFUSED[kind]:
        inner = LoopbackOnly()
        guard = SafeTargets(allow_loopback=True, resolver=_resolving([address]), inner=inner)
        with pytest.raises(RefusedTarget, match=kind.replace("_", "-")):
            await guard.connect_tcp("penerima.example.go.id", 443)
        assert inner.asked == []
    # half public, half private: refused whole
    inner = LoopbackOnly()
    mixed = _resolving([PUBLIC[0], "10.0.0.7"])
    guard = SafeTargets(allow_loopback=False, resolver=mixed, inner=inner)
    with pytest.raises(RefusedTarget, match="private"):
        await guard.connect_tcp("penerima.example.go.id", 443)
    assert inner.asked == []


async def test_every_connection_is_checked_again_after_a_dns_change() -> None:
    """DNS rebinding: a name that answered loopback (allowed here) now answers a metadata
    address; the next connection is refused, the first went to the address checked."""
    async with serving(Receiver()) as receiver:
        inner = LoopbackOnly()
        resolver = _resolving(["127.0.0.1"], ["169.254.169.254"])
        guard = SafeTargets(allow_loopback=True, resolver=resolver, inner=inner)
        stream = await guard.connect_tcp("penerima.test", receiver.port)
        await stream.aclose()
        with pytest.raises(RefusedTarget, match="metadata"):
            await guard.connect_tcp("penerima.test", receiver.port)
        assert inner.asked == ["127.0.0.1"]


async def test_the_address_actually_connected_is_checked() -> None:
    inner = LoopbackOnly(claims_peer="10.20.30.40")
    guard = SafeTargets(allow_loopback=False, resolver=_resolving([PUBLIC[0]]), inner=inner)
    with pytest.raises(RefusedTarget, match=r"10\.20\.30\.40 is private"):
        await guard.connect_tcp("penerima.example.go.id", 443)
    assert inner.asked == [PUBLIC[0]]  # the checked address, not the name


KEY = SecretStr("the service's key: thirty-two characters or more")


def _due(url: str, secret: str) -> Due:
    """A delivery due to `url`, its secret sealed as the database keeps it."""
    body = '{"type":"period.status_changed","timestamp":"2026-06-01T00:00:00Z","data":{}}'
    sealed = seal_secret(secret, KEY)
    return Due(uuid.uuid4(), uuid.uuid4(), "period.status_changed", body, 0, None, url, sealed)


async def test_delivery_goes_to_the_checked_address_with_the_host_named() -> None:
    async with serving(Receiver()) as receiver:
        secret = "whsec_" + "A" * 43 + "="
        receiver.secrets = {"/hook": secret}
        inner = LoopbackOnly()
        backend = SafeTargets(allow_loopback=True, resolver=_resolving(["127.0.0.1"]), inner=inner)
        async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
            sender = Sender(pool, 2.0, https_only=False, secret_key=KEY)
            url = f"http://penerima.test:{receiver.port}/hook"
            outcome = await sender.send(_due(url, secret))
            assert (outcome.status_code, outcome.error) == (200, None)
            # https only in production: not even a connection
            strict = Sender(pool, 2.0, https_only=True, secret_key=KEY)
            refused = await strict.send(_due(url, secret))
            assert refused.error == "only https targets are allowed in production"
            # a key other than the one that sealed the secret: a failed attempt, nothing sent
            other = SecretStr("another key, thirty-two characters long")
            unopened = await Sender(pool, 2.0, https_only=False, secret_key=other).send(
                _due(url, secret)
            )
            assert unopened.error == "the secret cannot be opened: IID_WEBHOOK_SECRET_KEY changed"
        assert inner.asked == ["127.0.0.1"]
        assert [item.host for item in receiver.received] == [f"penerima.test:{receiver.port}"]


async def test_a_redirect_to_a_metadata_address_is_not_followed() -> None:
    metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    async with serving(Receiver(mode="redirect", redirect_to=metadata)) as receiver:
        secret = "whsec_" + "B" * 43 + "="
        receiver.secrets = {"/hook": secret}
        inner = LoopbackOnly()
        backend = SafeTargets(allow_loopback=True, inner=inner)
        async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
            outcome = await Sender(pool, 2.0, https_only=False, secret_key=KEY).send(
                _due(receiver.url("/hook"), secret)
            )
        assert outcome.status_code == 307
        assert outcome.error == "HTTP 307: redirects are not followed"
        assert inner.asked == ["127.0.0.1"]  # never the metadata address


def test_the_api_refuses_what_the_url_alone_shows() -> None:
    strict, loose = (
        WebhookSettings(webhook_allow_loopback=False),
        WebhookSettings(webhook_allow_loopback=True),
    )
    refused = {
        "http://10.0.0.1/hook": "private",
        "http://169.254.169.254/latest": "metadata",
        "http://[fe80::1]/hook": "link-local",
        "http://[::ffff:192.168.0.1]:8080/hook": "private",
        "http://127.0.0.1:9000/hook": "loopback",
        "http://localhost:9000/hook": "loopback name",
        "http://api.localhost/hook": "loopback name",
        "http://" + "a" * 64 + ".example.id/hook": "not a host name DNS can resolve",
    }
    for url, reason in refused.items():
        with pytest.raises(InvalidInput, match=reason):
            check_target(url, strict, production=False, pointer="/body/url")
    check_target("http://127.0.0.1:9000/hook", loose, production=False, pointer="/body/url")
    check_target("https://sipd.parepare.go.id/hook", strict, production=True, pointer="/body/url")
    with pytest.raises(InvalidInput, match="only https"):
        check_target("http://sipd.parepare.go.id/hook", strict, production=True, pointer="/u")


async def test_creating_a_subscription_to_a_private_address_is_refused(
    client: AsyncClient, settings: ApiSettings
) -> None:
    assert settings.webhook_allow_loopback is False
    for url in ("http://10.1.1.1/hook", "http://127.0.0.1:8080/hook", "http://localhost/hook"):
        body = {"url": url, "event_types": ["ranking.changed"]}
        refused = problem(await client.post("/v1/webhooks", json=body), 422)
        assert refused["errors"][0]["pointer"] == "/body/url"


async def test_a_target_that_cannot_even_be_resolved_is_a_failed_attempt() -> None:
    # a host label of 64 characters: the resolver raises UnicodeError, not OSError
    url = "http://" + "a" * 64 + ".example.id/hook"
    async with httpcore.AsyncConnectionPool(
        network_backend=SafeTargets(allow_loopback=False)
    ) as pool:
        outcome = await Sender(pool, 2.0, https_only=False, secret_key=KEY).send(
            _due(url, "whsec_" + "C" * 43 + "=")
        )
    assert outcome.status_code is None
    assert outcome.error is not None and outcome.error.startswith("UnicodeError")
