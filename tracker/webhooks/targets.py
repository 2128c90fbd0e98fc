"""Where a webhook may call: an http(s) URL whose every address is public (no loopback, link-local, private,
shared, multicast or reserved address) unless the settings allow private ones. Checked when a webhook is saved and
again at each delivery, which then connects to the very address it checked, so a name that resolves elsewhere the
second time (DNS rebinding) reaches nothing it should not."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(ValueError):
    """The URL is not one a webhook may call; the message says why, in words for the person who typed it."""


@dataclass(frozen=True)
class Target:
    url: str  # as typed
    host: str  # the name, for TLS
    host_header: str  # the name and any port, for the Host header
    address: IPAddress  # where to connect: checked, never resolved again
    pinned_url: str  # the URL with the address in place of the name


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise Refused(f"The host {host} could not be found.") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def parse(url: str) -> tuple[str, str, int]:
    """The scheme, host and port of a URL a webhook may have (before any name is resolved)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused("Enter a full URL, such as https://example.com/hooks/tracker.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("Enter a full http:// or https:// URL, such as https://example.com/hooks/tracker.")
    if parts.username or parts.password:
        raise Refused("Leave the user name and password out of the URL; the signature proves who is calling.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check(url: str, allow_private: bool) -> Target:
    """The URL's target, resolved and checked, or Refused."""
    scheme, host, port = parse(url)
    addresses = _resolve(host, port)
    if not addresses:
        raise Refused(f"The host {host} has no address.")
    if not allow_private and not all(_public(a) for a in addresses):
        raise Refused(
            f"{host} is a loopback, link-local or private address (or resolves to one); a webhook calls public "
            "addresses only."
        )
    address = addresses[0]
    parts = urlsplit(url)
    netloc = f"[{address}]" if address.version == 6 else str(address)
    pinned = urlunsplit((scheme, f"{netloc}:{port}", parts.path or "/", parts.query, ""))
    return Target(url, host, parts.netloc, address, pinned)
