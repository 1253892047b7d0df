"""The client's address and scheme behind a reverse proxy, taken from X-Forwarded-For / -Proto only
when the connecting peer is a proxy named in VANGUARD_FORWARDED_ALLOW_IPS.

Anyone can send an X-Forwarded-For header; believing it from any peer would let a password
guesser pose as a new address on every attempt. A trusted proxy appends the address it saw, so
the header is read from the right, skipping trusted proxies: the first other address is the client.
"""

from __future__ import annotations

import ipaddress


class TrustedProxies:
    """A comma-separated list of addresses and networks (`10.0.0.5, 10.1.0.0/16`); `*` trusts any peer.

    >>> proxies = TrustedProxies("10.0.0.5, 192.168.0.0/16")
    >>> ("10.0.0.5" in proxies, "192.168.3.4" in proxies, "10.0.0.6" in proxies)
    (True, True, False)
    >>> proxies.client_of("1.2.3.4, 6.6.6.6, 192.168.3.4")
    '6.6.6.6'
    """

    def __init__(self, spec: str) -> None:
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.any = "*" in items
        self.networks = [ipaddress.ip_network(item, strict=False) for item in items if item != "*"]

    def __bool__(self) -> bool:
        return self.any or bool(self.networks)

    def __contains__(self, host: str) -> bool:
        if self.any:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client_of(self, forwarded_for: str) -> str | None:
        """The nearest address in the header that is not one of our proxies (None if there is none)."""
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in self:
                return hop[:64]
        return hops[0][:64] if hops else None


class ForwardedHeadersMiddleware:
    """ASGI middleware: rewrites `client` and `scheme` for requests that come through a trusted proxy."""

    def __init__(self, app, proxies: TrustedProxies) -> None:
        self.app, self.proxies = app, proxies

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("client") and scope["client"][0] in self.proxies:
            forwarded_for, proto = [], None
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    forwarded_for.append(value.decode("latin-1"))
                elif name == b"x-forwarded-proto":
                    proto = value.decode("latin-1").strip().lower()
            client = self.proxies.client_of(",".join(forwarded_for)) if forwarded_for else None
            if client or proto in ("http", "https"):
                scope = dict(scope)
                if client:
                    scope["client"] = (client, 0)
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)
