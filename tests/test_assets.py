"""Stylesheets and scripts: pages link them by a URL that changes with their content, so a browser may keep them a
year; the plain URL is always checked before use."""

from __future__ import annotations

import hashlib
import re

from tracker.core.assets import KEPT_FOR
from tracker.settings import ROOT


def test_pages_link_assets_by_their_content_and_browsers_keep_them(as_user):
    page = as_user("manager").get("/projects/TST").text
    linked = re.findall(r'(?:href|src)="(/(?:static|vendor)/[^"]+)"', page)
    assert {u.split("?")[0] for u in linked} >= {"/static/app.css", "/static/app.js", "/vendor/htmx.min.js"}
    app_js = next(u for u in linked if u.startswith("/static/app.js"))
    assert app_js == f"/static/app.js?v={hashlib.sha256((ROOT / 'static' / 'app.js').read_bytes()).hexdigest()[:12]}"
    client = as_user("manager")
    for url in linked:
        r = client.get(url.replace("&amp;", "&"))
        assert r.status_code == 200 and r.headers["cache-control"] == KEPT_FOR, url
    plain = client.get("/static/app.js")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    assert client.get("/static/missing.js?v=0").status_code == 404
