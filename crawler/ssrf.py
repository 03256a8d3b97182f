"""SSRF guard: the crawler connects only to globally routable addresses it has checked.

A customer types any URL into their crawl settings, and any page can redirect anywhere, so
every connection goes through `CheckedBackend`: it resolves the host itself, refuses the
connection unless *every* resolved address is globally routable (IPv4, IPv6, IPv4-mapped,
6to4, Teredo and NAT64 forms are unwrapped; odd IPv4 notations such as 2130706433, 0x7f.1
or 017700000001 are resolved exactly as the OS would connect to them), and then connects to
the address it checked, so a DNS answer that changes between check and use (rebinding) is
never followed. Redirects are not followed by httpx; the fetcher re-checks each hop and
every hop connects through this backend again.

`settings.CLOOP_CRAWL_ALLOW_PRIVATE` (environment CLOOP_CRAWL_ALLOW_PRIVATE=1) lifts the
address and port rules, for development and tests that crawl loopback servers only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable

import httpcore
from django.conf import settings

ALLOWED_PORTS = {80, 443}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class BlockedAddress(httpcore.ConnectError):
    """Raised instead of connecting to an address that is not globally routable."""


def allow_private() -> bool:
    return bool(settings.CLOOP_CRAWL_ALLOW_PRIVATE)


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    out = []
    if ip.ipv4_mapped:
        out.append(ip.ipv4_mapped)
    if ip.sixtofour:
        out.append(ip.sixtofour)
    if ip.teredo:
        out.extend(ip.teredo)
    if ip in NAT64 or ip in NAT64_LOCAL:
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    # IPv4-compatible (deprecated) ::a.b.c.d
    if int(ip) >> 32 == 0 and int(ip) > 1:
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def address_is_public(address: str) -> bool:
    """True only for a globally routable unicast address (and any address it embeds)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(address_is_public(str(v4)) for v4 in _embedded_v4(ip))
    return True


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, as the OS would connect to it."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def addresses_check(
    host: str, port: int, addresses: Iterable[str], exempt: frozenset[str] = frozenset()
) -> list[str]:
    """The addresses, or BlockedAddress if any of them (or the port) is not allowed.

    `exempt` holds "address:port" pairs an operator allows explicitly (an intranet server).
    """
    addresses = list(addresses)
    if not addresses:
        raise BlockedAddress(f"{host} does not resolve")
    if allow_private() or all(f"{a}:{port}" in exempt for a in addresses):
        return addresses
    bad = [a for a in addresses if not address_is_public(a)]
    if bad:
        raise BlockedAddress(f"{host} resolves to a non-public address ({bad[0]})")
    if port not in ALLOWED_PORTS:
        raise BlockedAddress(f"port {port} is not allowed (only 80 and 443)")
    return addresses


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to checked addresses (see module doc).

    `resolver(host, port) -> list[str]` is injectable so tests can play a rebinding DNS.
    """

    def __init__(
        self,
        resolver: Callable[[str, int], list[str]] | None = None,
        exempt: Iterable[str] = (),
    ):
        from httpcore._backends.auto import AutoBackend

        self._inner = AutoBackend()
        self._resolver = resolver or resolve
        self._exempt = frozenset(exempt)

    async def connect_tcp(
        self, host, port, timeout=None, local_address=None, socket_options=None
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.get_running_loop().run_in_executor(
                None, self._resolver, host, port
            )
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = addresses_check(host, port, addresses, self._exempt)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(self, *args, **kwargs):
        raise BlockedAddress("unix sockets are not crawled")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
