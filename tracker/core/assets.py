"""The stylesheets and scripts pages load: ours (static/) and the npm packages' (node_modules, under /vendor).
Pages name each by a URL carrying a fingerprint of its content (`asset` in templates), which browsers may keep for a
year: a changed file gets a new URL. A URL without the fingerprint is revalidated on every use."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from litestar.datastructures import MutableScopeHeaders
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tracker.settings import ROOT

MOUNTS: dict[str, tuple[Path, ...]] = {
    "static": (ROOT / "static",),
    "vendor": (ROOT / "node_modules" / "htmx.org" / "dist", ROOT / "node_modules" / "@picocss" / "pico" / "css"),
}
KEPT_FOR = "public, max-age=31536000, immutable"  # a year: the URL changes with the content
CHECKED = "no-cache"  # kept, but asked about (ETag) before each use


@cache
def asset(url: str) -> str:
    """`/static/app.css` as pages link it: with the first 12 hex digits of its sha256 (read once per process)."""
    mount, _, name = url.lstrip("/").partition("/")
    for folder in MOUNTS[mount]:
        if (path := folder / name).is_file():
            return f"{url}?v={hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    raise LookupError(f"no asset {url}")


def _caching(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        fingerprinted = b"v=" in scope.get("query_string", b"")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                MutableScopeHeaders.from_message(message)["cache-control"] = KEPT_FOR if fingerprinted else CHECKED
            await send(message)

        await app(scope, receive, sending)

    return middleware


def routers() -> list[Router]:
    return [
        create_static_files_router(
            path=f"/{mount}", directories=list(folders), name=mount, include_in_schema=False, middleware=[_caching]
        )
        for mount, folders in MOUNTS.items()
    ]
