"""Outbound HTTP to URLs that users give us (webhooks, image URLs), without SSRF.

The address is checked when connecting, not only the name before: we resolve the host, refuse
any address that is not plainly public, and connect to exactly the address we checked (TLS
still verifies the host name). Redirects are re-checked hop by hop. Bytes and time are capped.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

# Ranges Python's ipaddress does not flag as private/reserved but that are not the public
# internet, or that embed an IPv4 address (which is then checked on its own).
_EXTRA_BLOCKED = [ipaddress.ip_network(n) for n in (
    "100.64.0.0/10",      # CGNAT: neither private nor global in ipaddress
    "192.0.0.0/24", "198.18.0.0/15", "0.0.0.0/8",
    "64:ff9b::/96", "64:ff9b:1::/48",  # NAT64
    "2002::/16",          # 6to4
    "fc00::/7", "fe80::/10",
)]


class UnsafeUrl(Exception):
    def __init__(self, message: str, code: str = "unsafe_url"):
        super().__init__(message)
        self.message = message
        self.code = code


def _embedded_v4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped:
        return addr.ipv4_mapped
    if addr.sixtofour:
        return addr.sixtofour
    if addr.teredo:
        return addr.teredo[1]
    if addr in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def address_is_public(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_v4(addr)
        if inner is not None and not address_is_public(str(inner)):
            return False
    if (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_multicast
            or addr.is_reserved or addr.is_unspecified or not addr.is_global):
        return False
    return not any(addr in net for net in _EXTRA_BLOCKED)


def check_url(url: str, *, allow_private: bool = False) -> tuple[str, str, int, list[str]]:
    """Validate a URL and resolve it: (scheme, host, port, [addresses]); raises UnsafeUrl."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UnsafeUrl("The URL is not valid.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("Only http and https URLs are allowed.")
    if parts.username or parts.password:
        raise UnsafeUrl("URLs with credentials are not allowed.")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("The URL has no host.")
    default_port = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port or default_port
    except ValueError:
        raise UnsafeUrl("The URL's port is not valid.") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl("The URL's host does not resolve.", code="unresolvable_url") from None
    addresses = sorted({info[4][0] for info in infos})
    if not allow_private:
        for ip in addresses:
            if not address_is_public(ip):
                raise UnsafeUrl("The URL points to a private or reserved address.")
        if port != default_port:
            raise UnsafeUrl("Only the default ports (80, 443) are allowed.")
    return parts.scheme, host, port, addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class SafeResponse:
    status: int
    headers: dict
    body: bytes
    url: str


def safe_request(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None,
                 timeout: float = 10.0, max_bytes: int = 1024 * 1024, max_redirects: int = 0,
                 allow_private: bool = False, sink=None) -> SafeResponse:
    """One HTTP request to a user-supplied URL. Raises UnsafeUrl for refused targets, OSError
    for network failures, and UnsafeUrl(code="response_too_large") past `max_bytes`.

    With `sink` (a binary file), the final response's body is written there as it arrives
    instead of being held in memory (large downloads); `body` is then empty."""
    deadline = time.monotonic() + timeout
    for _hop in range(max_redirects + 1):
        scheme, host, port, addresses = check_url(url, allow_private=allow_private)
        remaining = max(0.5, deadline - time.monotonic())
        cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        conn = cls(host, port, addresses[0], remaining)
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308) and max_redirects:
                location = response.getheader("Location")
                if not location:
                    raise UnsafeUrl("A redirect without a Location header.")
                url = urljoin(url, location)
                if response.status == 303:
                    method, body = "GET", None
                continue
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError("The response took too long.")
                chunk = response.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise UnsafeUrl("The response is too large.", code="response_too_large")
                if sink is not None:
                    sink.write(chunk)
                else:
                    chunks.append(chunk)
            return SafeResponse(status=response.status, headers=dict(response.getheaders()),
                                body=b"".join(chunks), url=url)
        finally:
            conn.close()
    raise UnsafeUrl("Too many redirects.", code="too_many_redirects")
