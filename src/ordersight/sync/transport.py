"""Every request store sync makes leaves through here: the one place that decides where sync
may connect, so no connector can reach an address the operator has not allowed.

- A store is `https` on a public address. `SYNC_ALLOW_PRIVATE_NETWORKS` lets the operator
  reach private and loopback addresses (a store on their own network), plain `http` then
  only to those; link-local (cloud metadata), multicast and reserved addresses never.
- The name is resolved once per request, every address it gives is checked, and the
  connection goes to the checked address (a name that answers differently the second time
  cannot slip through; TLS still verifies the name).
- Redirects and `Link` pages are followed only on the store's own origin.
- `file://` feeds are read only below `SYNC_FILE_ROOT` (links resolved first), without a
  query or fragment; with no root set, never.
- Each request has an overall deadline (DEADLINE_SECONDS), however slowly the bytes come,
  and its answer is read in chunks, refused once larger than MAX_BODY_BYTES.
- A failure to connect, a timeout or an answer that is not HTTP all read "could not reach
  the store": nothing the other end said is echoed, so runs cannot map ports.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import queue
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

UNREACHABLE = "could not reach the store"
MAX_REDIRECTS = 5
MAX_BODY_BYTES = 256 * 1024 * 1024
DEADLINE_SECONDS = 60.0
_CHUNK_BYTES = 64 * 1024
_DEFAULT_PORTS = {"https": 443, "http": 80}
_REDIRECTS = {301, 302, 303, 307, 308}


class StoreUnavailable(Exception):
    """The store did not answer usefully after the retries (or refused the credentials)."""


class PermanentFailure(StoreUnavailable):
    """Asking again will not help (a refused address, an answer too large, too many
    redirects, the deadline passed): clients do not retry it."""


class AddressRefused(PermanentFailure):
    """The operator's rules do not allow this address."""


@dataclass
class Page:
    """A page of items as every store client yields them (Shopify's, the generic feed's)."""

    items: list[dict[str, Any]]
    next_url: str | None


def read_ahead(pages: Iterator[Page]) -> Iterator[Page]:
    """`pages` as they come, the next one fetched on a thread while the caller writes this
    one: a store's page takes as long to come as to write (Shopify answers a page of 250
    orders in a few hundred milliseconds), and one after the other a run waited for each.
    At most two pages are held ahead. What fetching raises is raised where that page would
    have come, after the pages before it. A caller that stops early stops the fetching at
    the next page: a request already asked (with its retries, if the store throttles) runs
    to its end on the thread, and its page is dropped."""
    held: queue.Queue[tuple[Page | None, BaseException | None]] = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def hand_over(item: tuple[Page | None, BaseException | None]) -> bool:
        while not stopped.is_set():
            try:
                held.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in pages:
                if not hand_over((page, None)):
                    return
        except BaseException as exc:  # raised again in the caller's thread
            hand_over((None, exc))
        else:
            hand_over((None, None))

    threading.Thread(target=fetch, name="store-pages", daemon=True).start()
    try:
        while True:
            page, failure = held.get()
            if failure is not None:
                raise failure
            if page is None:
                return
            yield page
    finally:
        stopped.set()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


def _allow_private() -> bool:
    return bool(settings.SYNC_ALLOW_PRIVATE_NETWORKS)


def _file_root() -> Path | None:
    root = settings.SYNC_FILE_ROOT
    return Path(root).resolve() if root else None


_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, translated, NAT64,
    6to4, Teredo): a connection to it reaches them, so they are what is checked."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    value = int(address)
    if address in _NAT64_LOCAL:
        # RFC 6052 /48: the IPv4 address sits in bits 48-63 and 72-87, around the u octet.
        return [ipaddress.IPv4Address(((value >> 64) & 0xFFFF) << 16 | (value >> 40) & 0xFFFF)]
    if address in _IPV4_TRANSLATED or address in _NAT64:
        return [ipaddress.IPv4Address(value & 0xFFFFFFFF)]
    if address in _IPV4_COMPATIBLE and not (address.is_unspecified or address.is_loopback):
        return [ipaddress.IPv4Address(value & 0xFFFFFFFF)]
    return []


def address_refusal(ip: str, *, scheme: str) -> str | None:
    """Why sync may not connect to this address, or None when it may. An IPv6 address
    carrying an IPv4 one is judged by the IPv4 addresses inside it."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded:
            refusals = [_refusal(inner, scheme) for inner in embedded]
            return next((r for r in refusals if r), None)
    return _refusal(address, scheme)


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, scheme: str) -> str | None:
    # The classes never allowed come first: some are also "global" to `ipaddress`.
    never = (
        address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )
    if never:
        return _("it is not a store's address (link-local, multicast or reserved)")
    if address.is_global:
        if scheme != "https":
            return _("a public store is reached over https only")
        return None
    if not (address.is_private or address.is_loopback):
        return _("it is not a store's address (link-local, multicast or reserved)")
    if not _allow_private():
        return _(
            "it is on a private network; the operator may allow that with "
            "SYNC_ALLOW_PRIVATE_NETWORKS"
        )
    return None


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def url_refusal(url: str, *, files: bool) -> str | None:
    """Why a store's base address is refused, checked without the network (the address a
    name resolves to is checked at every connection); None when it may be used."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return _("not a valid address")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return _("no query or fragment (?, #)")
    if parts.scheme == "file":
        if not files:
            return _("https://… (only a generic feed may be file://…)")
        return _file_refusal(parts)
    if parts.scheme not in _DEFAULT_PORTS:
        return _("https://… (or file://… below SYNC_FILE_ROOT)") if files else _("https://…")
    if parts.username is not None or parts.password is not None:
        return _("no user or password in the address")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return _("the store's host name")
    if parts.scheme == "http" and not _allow_private():
        return _(
            "https://… (plain http only on a private network SYNC_ALLOW_PRIVATE_NETWORKS allows)"
        )
    if port == 0:
        return _("not a valid address")
    literal = _literal_ip(host)
    if literal is None and (host == "localhost" or host.endswith(".localhost")):
        literal = "127.0.0.1"
    if literal is not None:
        refusal = address_refusal(literal, scheme=parts.scheme)
        if refusal:
            return _("the address is refused: {why}").format(why=refusal)
    return None


def _file_path(parts: urllib.parse.SplitResult) -> Path | None:
    """The file a `file://` address names, links resolved; None when no file could have
    that name (a NUL in it, a loop of links, a name too long)."""
    try:
        return Path(urllib.request.url2pathname(parts.path)).resolve()
    except (ValueError, OSError, RuntimeError):
        return None


def _file_refusal(parts: urllib.parse.SplitResult) -> str | None:
    root = _file_root()
    if root is None:
        return _("file://… feeds are off: the operator names their folder in SYNC_FILE_ROOT")
    if parts.netloc not in ("", "localhost"):
        return _("a file on this machine: file:///…")
    path = _file_path(parts)
    if path is None:
        return _("not a valid file name")
    if not path.is_relative_to(root):
        return _("file://… below the folder SYNC_FILE_ROOT names")
    return None


def _origin(parts: urllib.parse.SplitResult) -> tuple[str, str, int | None]:
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").rstrip(".").lower(), port


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to now."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _connect(ips: list[str], port: int, timeout: float) -> socket.socket:
    """A socket to the first of the checked addresses that answers, as
    `socket.create_connection` tries each address a name gives."""
    failure: OSError = OSError("no address")
    for ip in ips:
        try:
            return socket.create_connection((ip, port), timeout)
        except OSError as exc:
            failure = exc
    raise failure


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to addresses checked beforehand (the Host header keeps the name)."""

    def __init__(self, host: str, port: int, *, ips: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.ips = ips
        self.opened: socket.socket | None = None

    def connect(self) -> None:
        self.sock = self.opened = _connect(self.ips, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As `_PinnedHTTP`, over TLS verified for the store's name."""

    def __init__(self, host: str, port: int, *, ips: list[str], timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.ips = ips
        self.opened: socket.socket | None = None

    def connect(self) -> None:
        sock = _connect(self.ips, self.port, self.timeout)
        self.sock = self.opened = self.tls.wrap_socket(sock, server_hostname=self.host)


def _cut(connection: http.client.HTTPConnection) -> None:
    """End a connection from another thread: a blocked read returns at once (a plain
    socket shutdown, under TLS too, so the reading thread sees the end of the stream). The
    socket kept at connect: an answer read to its close has taken it from `sock`."""
    sock = getattr(connection, "opened", None)  # set by the pinned connections
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class StoreAccess:
    """The way to one store: its base address, checked, and `get` for any address on it."""

    def __init__(
        self,
        base_url: str,
        *,
        files: bool = False,
        timeout: float = 30.0,
        deadline: float = DEADLINE_SECONDS,
    ) -> None:
        refusal = url_refusal(base_url, files=files)
        if refusal:
            raise AddressRefused(f"the store's address is refused: {refusal}")
        self.base = base_url.rstrip("/")
        self.parts = urllib.parse.urlsplit(self.base)
        self.origin = _origin(self.parts)
        self.timeout = timeout
        self.deadline = deadline

    def url(self, path: str, query: Mapping[str, object] | None = None) -> str:
        """An address below the base: `path` appended, the query encoded."""
        joined = f"{self.base}/{path.lstrip('/')}"
        return f"{joined}?{urllib.parse.urlencode(query)}" if query else joined

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Answer:
        """GET an address on the store's origin, following redirects that stay on it, all
        within the deadline."""
        until = time.monotonic() + self.deadline
        for _hop in range(MAX_REDIRECTS + 1):
            parts = self._on_origin(url)
            if parts.scheme == "file":
                return self._read_file(parts)
            answer = self._request(parts, dict(headers or {}), until)
            location = answer.headers.get("location")
            if answer.status not in _REDIRECTS or not location:
                return answer
            url = urllib.parse.urljoin(url, location)
        raise PermanentFailure("the store redirected too many times")

    def _on_origin(self, url: str) -> urllib.parse.SplitResult:
        try:
            parts = urllib.parse.urlsplit(url)
            same = _origin(parts) == self.origin
        except ValueError:
            same = False
        if not same:
            raise AddressRefused("the store named an address outside the store's own address")
        if parts.scheme == "file" and (parts.query or parts.fragment):
            raise AddressRefused("a file feed is read without a query or fragment")
        return parts

    def _read_file(self, parts: urllib.parse.SplitResult) -> Answer:
        refusal = _file_refusal(parts)
        if refusal:
            raise AddressRefused(f"the feed's address is refused: {refusal}")
        path = _file_path(parts)  # links resolved: a link out of the root is refused above
        if path is None:
            raise AddressRefused("the feed's address is refused: not a valid file name")
        try:
            if not path.exists():
                return Answer(404, {}, b"")
            if not path.is_file():
                raise StoreUnavailable("the feed's address is not a file")
            if path.stat().st_size > MAX_BODY_BYTES:
                raise PermanentFailure("the feed's file is too large")
            return Answer(200, {}, path.read_bytes())
        except OSError:
            raise StoreUnavailable("the feed's file could not be read") from None

    def _request(
        self, parts: urllib.parse.SplitResult, headers: dict[str, str], until: float
    ) -> Answer:
        host, port = self.origin[1], self.origin[2] or 443
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            raise StoreUnavailable(UNREACHABLE) from None
        for ip in addresses:
            refusal = address_refusal(ip, scheme=parts.scheme)
            if refusal:
                raise AddressRefused(f"the store's address is refused: {refusal}")
        if not addresses:
            raise StoreUnavailable(UNREACHABLE)
        kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
        timeout = min(self.timeout, max(until - time.monotonic(), 0.001))
        connection = kind(host, port, ips=addresses, timeout=timeout)
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        # The socket timeout bounds each read only: a store sending a byte at a time would
        # never reach it, so the connection is cut when the deadline passes.
        watchdog = threading.Timer(max(until - time.monotonic(), 0.0), _cut, (connection,))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
            body = _read_body(response, until)
            if time.monotonic() >= until:
                raise TimeoutError  # cut by the watchdog: what was read is not the answer
        except (OSError, http.client.HTTPException, ValueError):
            if time.monotonic() >= until:
                raise self._late() from None
            raise StoreUnavailable(UNREACHABLE) from None
        finally:
            watchdog.cancel()
            connection.close()
        return Answer(response.status, answer_headers, body)

    def _late(self) -> PermanentFailure:
        return PermanentFailure(f"the store did not answer within {self.deadline:g} seconds")


def _read_body(response: http.client.HTTPResponse, until: float) -> bytes:
    """The answer's body, read a chunk at a time so the size cap and the deadline hold
    while it is read."""
    chunks, size = [], 0
    while chunk := response.read1(_CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PermanentFailure("the store's answer is too large")
        if time.monotonic() >= until:
            raise TimeoutError
        chunks.append(chunk)
    return b"".join(chunks)
