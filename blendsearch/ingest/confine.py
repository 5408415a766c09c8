"""Which image references a catalogue may reach: local paths inside the image roots, public addresses.

A catalogue is data from someone else. Its image column must not become a way to read the ingesting
machine's files (``../../etc/passwd``, ``file:///root/.ssh/id_rsa``) or to probe its network
(``http://127.0.0.1:6379/``, ``http://169.254.169.254/``). So:

- a local reference is allowed only when it lies inside one of the image roots, both as written
  (after folding ``..``) and after following symlinks. The lexical check runs first and never touches
  the file system, so a path outside the roots gets the same answer whether or not it exists;
- an address is allowed only when it is global unicast: loopback, private, link-local, multicast,
  unspecified, reserved, shared (CGNAT) and documentation ranges are refused, including IPv4 addresses
  wrapped in IPv6 (mapped, 6to4, NAT64, Teredo). Callers check every resolved address and every
  redirect target, and connect to the address they checked.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path

from blendsearch.exceptions import ImageError

__all__ = ["OUTSIDE_ROOT", "ImageRoots", "address_allowed"]

#: The one reason every refused local reference gets, whether or not the file exists.
OUTSIDE_ROOT = "outside the image root"

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to, if any: it is where the packets really go."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_allowed(address: str | _IPAddress) -> bool:
    """True for a global unicast address; False for loopback, private, link-local, multicast, etc."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not address_allowed(inner):
            return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class ImageRoots:
    """The folders (or archive files) local image references must stay inside.

    ``confine=False`` allows any path: for images the caller names itself (a query image), never for
    references read from a catalogue.
    """

    def __init__(self, roots: Iterable[str | os.PathLike[str]], *, confine: bool = True) -> None:
        self.confine = confine
        folded = [os.path.normpath(os.path.abspath(os.fspath(r))) for r in roots]
        # Both forms: a root given through a symlink matches references written either way.
        self.roots = list(dict.fromkeys(folded + [os.path.realpath(r) for r in folded]))

    def check(self, path: str | os.PathLike[str], ref: str) -> Path:
        """``path`` folded and with symlinks resolved, or :class:`ImageError` when it leaves the roots.

        Relative paths are taken from the current directory (callers join them to a root first).
        """
        if not self.confine:
            return Path(path)
        lexical = os.path.normpath(os.path.abspath(os.fspath(path)))
        if not any(_inside(lexical, root) for root in self.roots):
            raise ImageError(f"image {ref!r} is {OUTSIDE_ROOT}")
        real = os.path.realpath(lexical)  # only follows links of a path already inside a root
        if not any(_inside(real, root) for root in self.roots):
            raise ImageError(f"image {ref!r} is {OUTSIDE_ROOT}")
        return Path(real)

    def __repr__(self) -> str:
        return f"ImageRoots({self.roots!r}, confine={self.confine})"
