"""Malformed requests get a plain answer, never a 500: a session cookie that cannot be read signs nobody in (it is
cleared and the visitor goes to sign in); a JSON body nested too deeply or too large is refused before it is parsed,
while file uploads keep their own, larger limit."""

from __future__ import annotations

from base64 import b64encode

import pytest
from litestar.middleware.session.client_side import AAD, ClientSideSessionBackend, CookieBackendConfig

from tests.security.conftest import RISK_SHEET
from tests.security.test_permissions import _fingerprint


def _cookie(secret: bytes, data) -> str:
    """A session cookie as Litestar writes it, sealed with `secret`."""
    return ClientSideSessionBackend(CookieBackendConfig(secret=secret)).dump_data(data)[0].decode()


def _malformed(app) -> dict[str, str]:
    key = app.state.settings.derived_key("session")
    good = _cookie(key, {"uid": 1, "epoch": 0, "iat": 0})
    return {
        "garbage": "not-a-session-at-all",
        "truncated": good[: len(good) // 2],
        "base64 of junk": b64encode(b"junk" * 20).decode(),
        "junk where the expiry goes": b64encode(b"\x01" * 12 + b"junk" + AAD + b"{not json").decode(),
        "an expiry that is no number": b64encode(b"\x01" * 12 + b"junk" + AAD + b'{"expires_at": "soon"}').decode(),
        "no nonce": b64encode(AAD + b'{"expires_at": 99999999999}').decode(),
        "wrong key": _cookie(b"k" * 32, {"uid": 1, "epoch": 0, "iat": 0}),
        "a list, not a session": _cookie(key, ["uid", 1]),
        "a session of the wrong types": _cookie(key, {"uid": "1", "epoch": None, "iat": "x", "_flash": "x"}),
    }


def _cleared(response) -> bool:
    return any(
        c.startswith("tracker_session=") and ("expires=" in c.lower() or "max-age=0" in c.lower())
        for c in response.headers.get_list("set-cookie")
    )


def test_a_malformed_session_cookie_is_no_session_cleared_on_the_way_to_sign_in(as_user, app):
    client, wrong = as_user(None).client, []
    for kind, value in _malformed(app).items():
        cookie = {"cookie": f"tracker_session={value}"}
        login = client.get("/login", headers=cookie)
        page = client.get("/projects", headers=cookie, follow_redirects=False)
        api = client.get("/api/v1/me", headers=cookie)
        htmx = client.get("/projects", headers=cookie | {"HX-Request": "true"})
        if not (
            login.status_code == 200
            and 'name="password"' in login.text
            and _cleared(login)
            and page.status_code == 302
            and page.headers["location"].startswith("/login")
            and api.status_code == 401
            and set(api.json()) == {"status_code", "detail", "extra"}
            and htmx.status_code == 204
            and htmx.headers["hx-redirect"] == "/login"
        ):
            wrong.append(f"{kind}: {login.status_code} {page.status_code} {api.status_code} {htmx.status_code}")
    assert not wrong, wrong


def _nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


@pytest.mark.parametrize(
    "body",
    [_nested(1000), _nested(100_000), b'{"title": ' + _nested(5000) + b"}", b'{"a":' * 1000 + b"1" + b"}" * 1000],
    ids=["1,000 lists", "100,000 lists", "a field 5,000 deep", "1,000 objects"],
)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_deeply_nested_json_is_refused_with_a_json_400_before_it_is_parsed(as_user, db, body, content_type):
    b = as_user("staff")
    before = _fingerprint(db)
    for url in ("/api/v1/projects/TST/risks", "/api/v1/saved-reports/preview"):
        r = b.api("POST", url, content=body, headers={"content-type": content_type})
        assert r.status_code == 400, (url, r.status_code, r.text[:200])
        assert set(r.json()) == {"status_code", "detail", "extra"} and "nested" in r.json()["detail"]
    db.expire_all()
    assert _fingerprint(db) == before


def test_json_bodies_are_capped_well_below_the_upload_limit_but_uploads_are_not(as_user, seeded, db):
    b = as_user("staff")
    big = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'", "probability": 2, "impact": 2}'
    r = b.api("POST", "/api/v1/projects/TST/risks", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["detail"]
    form = b.post("/projects/TST/risks", {"title": "x" * (2 * 1024 * 1024), "probability": "2", "impact": "2"})
    assert form.status_code == 413
    contractor = as_user("contractor")
    r = contractor.api(
        "POST",
        f"/api/v1/deliverables/{seeded.ids['rejected_id']}/submissions",
        data={"notes": ""},
        files={"files": ("big.pdf", b"%PDF" + b"x" * (3 * 1024 * 1024), "application/pdf")},
    )
    assert r.status_code == 201, r.text


def test_json_sent_inside_a_form_field_too_deep_to_read_is_a_message_beside_that_field(as_user, db):
    b = as_user("staff")
    before = _fingerprint(db)
    r = b.api(
        "POST",
        "/api/v1/projects/TST/risks/import",
        data={"mapping": _nested(5000).decode()},
        files={"file": ("risks.csv", RISK_SHEET, "text/csv")},
    )
    assert r.status_code == 422 and "mapping" in r.json()["extra"], r.text
    db.expire_all()
    assert _fingerprint(db) == before
