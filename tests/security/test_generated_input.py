"""Generated hostile input (Hypothesis) at every write route of the permission matrix, pages and API alike, through
real requests by someone allowed to use it: control characters, NUL, right-to-left overrides, emoji, combining marks,
markup, 100k-character strings, numbers at and past their limits, wrong types, deeply nested and very large JSON.

The property: never a 5xx, never a script reflected into a page, and nothing half-written: a refused request leaves
every table's row count, every version column and the audit trail as they were. Bounded (a fixed number of
examples, derandomized) so the suite keeps its time."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.test_permissions import ROUTES, _call, _fill, _fingerprint

# The sign-in throttle's count of a wrong current password is the refusal's own record (tests/security/test_login_race.py).
THROTTLE = ("login_throttle",)
SCRIPT = "<script>alert('xss')</script>"
# Who uses each route: the first of these its row allows.
USERS = ("manager", "staff", "contractor", "admin", "viewer", "outsider")
# Routes that end the user's own sessions would sign the generated requests out; tests/test_auth.py has them.
SIGNING_OUT = {"/profile/password", "/profile/sign-out-everywhere"}
WRITES = [
    (method, path, next(u for u in USERS if u in allowed), body)
    for method, path, allowed, body, *_ in ROUTES
    if method != "GET" and isinstance(body, dict) and allowed and path not in SIGNING_OUT
]

pieces = st.sampled_from(
    [
        "\x00",
        "\x01",
        "\x0b",
        "\x1f",
        "\x7f",
        "\x85",
        "\u202e",
        "\u2066",
        "\u200b",
        "\ufeff",
        "\ufffe",
        "🙂",
        "👩‍💻",
        "e\u0301\u0301\u0301",
        "ﷺ",
        "\t",
        "\r\n",
        SCRIPT,
        "' OR 1=1 --",
        "{{ 7*7 }}",
        "%00",
        "=cmd|' /C calc'!A0",
    ]
)
text = st.one_of(
    st.lists(pieces, min_size=1, max_size=6).map("".join),
    st.text(max_size=40),
    st.sampled_from(["x" * 100_000, "é" * 20_001, "9" * 400, "a" * 501]),
)
numbers = st.sampled_from(
    [
        "0",
        "-1",
        "-0",
        "2147483648",
        "9223372036854775808",
        "9" * 40,
        "1e309",
        "NaN",
        "Infinity",
        "3.5",
        "0x10",
        "1_000",
        "１２",
    ]
)
form_value = st.one_of(text, numbers, st.lists(text, max_size=3))


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


json_value = st.one_of(
    text,
    numbers,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),  # JSON has neither; httpx refuses to encode them
    st.booleans(),
    st.none(),
    st.lists(text, max_size=3),
    st.dictionaries(text, text, max_size=3),
    st.sampled_from([_nested(60), list(range(50_000)), {"k" * 1000: "v" * 1000}]),  # deeper: the test below
)


@st.composite
def hostile_request(draw):
    index = draw(st.integers(min_value=0, max_value=len(WRITES) - 1))
    method, path, user, body = WRITES[index]
    api = path.startswith("/api/")
    fields = [k for k, v in body.items() if not isinstance(v, tuple)] + ["unexpected"]
    field = draw(st.sampled_from(fields))
    value = draw(json_value if api else form_value)
    return method, path, user, body, field, value


@pytest.fixture
def signed_in() -> dict:
    """One signed-in browser per user for all of a run's examples."""
    return {}


@settings(
    max_examples=160,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=hostile_request())
def test_hostile_input_is_never_a_5xx_never_reflected_and_never_half_written(as_user, seeded, db, signed_in, case):
    method, template, user, body, field, value = case
    if user not in signed_in:
        signed_in[user] = as_user(user)
    ids = seeded.ids | {name: seeded.world.ids[name] for name in ("manager", "staff", "outsider")}
    path, data = _fill(template, ids), _fill(body, ids)
    data = {**data, field: value}
    db.expire_all()
    before = _fingerprint(db, skip=THROTTLE)
    r = _call(signed_in[user], method, path, data)
    assert r.status_code < 500, f"{method} {path} {field}={str(value)[:80]!r}: {r.status_code} {r.text[:300]}"
    if r.headers.get("content-type", "").startswith("text/html"):
        assert SCRIPT not in r.text, f"{method} {path}: the markup came back unescaped"
    if r.status_code >= 400:
        db.expire_all()
        assert _fingerprint(db, skip=THROTTLE) == before, (
            f"{method} {path} {field}: refused with {r.status_code}, yet written"
        )


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
def test_json_of_any_depth_is_a_clear_400(as_user, seeded, depth):
    r = as_user("manager").api(
        "POST",
        "/api/v1/projects/TST/risks",
        content=b"[" * depth + b"]" * depth,
        headers={"content-type": "application/json"},
    )
    assert r.status_code in (400, 413) and r.json()["detail"], r.text[:200]
