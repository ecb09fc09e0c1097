"""Where the server may send requests (callbacks, model endpoints): not to itself or its
private network. A URL a customer gives is otherwise a way to make the server reach
its database, a cloud metadata service or anything else only it can see (SSRF).

By default every destination that is not globally routable is refused: loopback,
private (RFC 1918), link-local, unique-local, shared (CGNAT, 100.64/10), multicast,
unspecified and reserved addresses, in any notation the resolver accepts (2130706433,
0x7f.1, 127.1, ::ffff:127.0.0.1, ...). It is checked twice:

- when a URL is stored (`OutboundPolicy.check_field`): parsed and resolved, never connected to;
- when a connection is made, on the address really connected to, so a name that
  resolves to 127.0.0.1 later (DNS rebinding) is refused too: `http_client` (httpx) and
  `connector` (aiohttp) check every address before their sockets connect.

Redirects are never followed. Local development opts out with
`assay serve --allow-private-urls`.
"""

import errno
import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpcore
import httpx

from assay.errors import FieldError, Invalid

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_KINDS = (
    ("loopback", lambda a: a.is_loopback),
    ("unspecified", lambda a: a.is_unspecified),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("unique-local", lambda a: a.version == 6 and a in _UNIQUE_LOCAL),
    ("shared (CGNAT)", lambda a: a.version == 4 and a in _SHARED),
    ("reserved", lambda a: a.is_reserved),
    ("private", lambda a: a.is_private),
    ("not public", lambda a: not a.is_global),
)
_NUMERIC_V4 = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)
ALLOW_HINT = "assay serve --allow-private-urls allows them for local development"


class DestinationNotAllowed(OSError):
    """A destination the policy refuses. An OSError, so HTTP clients that try each
    address of a name treat it as that address failing to connect."""

    def __init__(self, reason: str):
        super().__init__(errno.EACCES, reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def refusal(address: Address) -> str | None:
    """What kind of non-public address this is ("loopback", "private", ...), or None for
    a globally routable one. IPv4 inside IPv6 (mapped, 6to4) is judged as IPv4."""
    if address.version == 6 and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    if address.version == 6 and address.sixtofour is not None and refusal(address.sixtofour):
        return refusal(address.sixtofour)
    for kind, test in _KINDS:
        if test(address):
            return kind
    return None


def literal_address(host: str) -> Address | None:
    """The address a URL's host spells, in any notation the C resolver reads (dotted,
    decimal, hex, octal, short forms like 127.1), or None for a name."""
    host = host.split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) changes nothing here
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_V4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def destination(url: str) -> str:
    """The scheme, host and port a URL sends to ("https://example.com:443"): what
    deliveries are grouped by. Never raises (a stored URL may be malformed)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return url
    port = port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def _resolve(host: str) -> list[str]:
    """The addresses a name resolves to now (a lookup, no connection); [] if none."""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [info[4][0] for info in found]


def _reason(what: str, kind: str) -> str:
    return f"{what} is not a public address ({kind}); {ALLOW_HINT}"


class RefusedField(Invalid):
    """A request field naming a destination the policy refuses: 422
    `destination_not_allowed`."""

    def __init__(self, field: str, reason: str):
        super().__init__([FieldError(field, reason)])
        self.code = "destination_not_allowed"


@dataclass(frozen=True)
class OutboundPolicy:
    allow_private: bool = False
    """Let requests reach loopback and private addresses (local development only)."""

    def check_address(self, address: str) -> None:
        """Refuse a connection to this address (an IP literal) unless the policy allows it."""
        kind = None if self.allow_private else refusal(literal_address(address))
        if kind is not None:
            raise DestinationNotAllowed(_reason(address, kind))

    def host_refusal(self, host: str) -> str | None:
        """Why requests to this URL host are refused (it is, or now resolves to, a refused
        address), or None. A name that does not resolve passes: it is checked again when
        a connection is made."""
        host = host.rstrip(".").lower()
        if self.allow_private:
            return None
        if not host:
            return "the URL names no host"
        if host == "localhost" or host.endswith(".localhost"):  # loopback by RFC 6761
            return _reason(host, "loopback")
        address = literal_address(host)
        found = [address] if address else [literal_address(a) for a in _resolve(host)]
        kind = next((k for a in found if (k := refusal(a))), None)
        return None if kind is None else _reason(host, kind)

    def check_field(self, field: str, url: str | None) -> None:
        """Raise RefusedField if the URL given in `field` is refused."""
        self.field_checker(field)(url)

    def field_checker(self, field: str) -> Callable[[str | None], None]:
        """check_field for many URLs (the rows of an import): each host is checked once."""
        host_refusal = lru_cache(maxsize=1024)(self.host_refusal)

        def check(url: str | None) -> None:
            if url is None:
                return
            try:
                reason = host_refusal(urlsplit(url).hostname or "")
            except ValueError:  # e.g. an unclosed [IPv6 address
                reason = "the URL's host cannot be read"
            if reason is not None:
                raise RefusedField(field, reason)

        return check

    def http_client(self, **options: Any) -> httpx.Client:
        """An httpx client that connects only where the policy allows, follows no
        redirects and ignores proxy settings of the environment."""
        return httpx.Client(
            transport=_GuardedTransport(self), follow_redirects=False, trust_env=False, **options
        )

    def connector(self, **options: Any) -> aiohttp.TCPConnector:
        """An aiohttp connector whose sockets are checked before they connect."""

        def guarded_socket(addr_info: tuple) -> socket.socket:
            family, kind, proto, _, sockaddr = addr_info
            self.check_address(sockaddr[0])
            return socket.socket(family, kind, proto)

        return aiohttp.TCPConnector(socket_factory=guarded_socket, **options)


STRICT = OutboundPolicy()


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves the name itself, checks every address, then connects to an address (not
    the name again), so what was checked is what is connected to."""

    def __init__(self, policy: OutboundPolicy):
        self.policy = policy

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any):
        addresses = _resolve(host)
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}")
        try:
            for address in addresses:
                self.policy.check_address(address)
        except DestinationNotAllowed as exc:
            raise httpcore.ConnectError(str(exc)) from None
        failure = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, *args, **kwargs)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"cannot connect to {host}")

    def connect_unix_socket(self, *args: Any, **kwargs: Any):
        raise httpcore.ConnectError("outbound requests do not use unix sockets")


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, policy: OutboundPolicy):
        super().__init__(trust_env=False)
        # httpx takes no network backend of its own; its pool is rebuilt around ours, with
        # httpx's default limits.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy),
        )
