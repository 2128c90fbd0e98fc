"""OpenID Connect with one provider, through Authlib: discovery, the authorization request (code flow with PKCE S256,
state and nonce), the code exchange, the ID token checked on the app's clock (issuer, audience, expiry, nonce, the
signature from the provider's JWKS, fetched again once for a key it does not know), the claims it leaves out read
from the userinfo endpoint, and RP-initiated logout."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from tracker.core.clock import utcnow

# Authlib and joserfc (with requests under them) are read when a sign-in through a provider first needs them, not
# when a server starts: about 25 MB that every server process would otherwise hold whether anyone signs in so or not.
if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc import jwt
    from joserfc.jwk import KeySet

SCOPES = "openid email profile"  # what sign-in asks a provider for unless its settings say more
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 3.3: printable ASCII but space, " and \\
LEEWAY = 60  # seconds: the clock skew allowed between the provider and us
TIMEOUT = 10  # seconds for each call to a provider
METADATA_TTL = timedelta(hours=1)  # discovery documents are read again after this (JWKS: when a key is unknown)


class Refused(Exception):
    """A sign-in that cannot go on, with what the person is told and the page's status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Client:
    """What we are at one provider."""

    name: str  # how the provider is called on our pages
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = SCOPES


def issuer_problem(url: str) -> str | None:
    """Why `url` cannot be an issuer, in words for the form; None when it can. HTTPS, or HTTP on a loopback address
    (a provider on the same machine: tests and development)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "Enter the issuer's address, e.g. https://login.example.gov/realms/staff."
    if parts.query or parts.fragment:
        return "The issuer's address has no query (?) or fragment (#)."
    if parts.scheme == "http" and not _loopback(parts.hostname):
        return "Use https: plain http is only for a provider on this machine (127.0.0.1 or localhost)."
    return None


def scopes_problem(text: str) -> str | None:
    """Why `text` cannot be what sign-in asks for, in words for the form; None when it can."""
    words = text.split()
    if "openid" not in words:
        return "Ask for openid, or the provider answers with no ID token (e.g. openid email profile groups)."
    if bad := [w for w in words if not SCOPE_TOKEN.match(w)]:
        return f"Not a scope: {bad[0][:40]}. Scopes are single words separated by spaces."
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- discovery and keys (cached per process) -----------------------------------------------------------------------

_metadata: dict[str, tuple[dict[str, Any], datetime]] = {}
_jwks: dict[str, dict[str, Any]] = {}


def _get_json(client: Client, url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=TIMEOUT, follow_redirects=False)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Refused(f"{client.name} could not be reached ({type(exc).__name__}). Try again later.", 502) from exc
    if not isinstance(body, dict):
        raise Refused(f"{client.name} answered something other than a JSON object at {url}.", 502)
    return body


def metadata(client: Client) -> dict[str, Any]:
    """The provider's discovery document (.well-known/openid-configuration), which must name the same issuer."""
    cached = _metadata.get(client.issuer)
    if cached and utcnow() - cached[1] < METADATA_TTL:
        return cached[0]
    doc = _get_json(client, client.issuer.rstrip("/") + "/.well-known/openid-configuration")
    if doc.get("issuer") != client.issuer:
        raise Refused(f"{client.name}'s discovery document names another issuer; check the issuer's address.", 502)
    for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(doc.get(needed), str):
            raise Refused(f"{client.name}'s discovery document has no {needed}.", 502)
    _metadata[client.issuer] = (doc, utcnow())
    return doc


def _keys(client: Client, refresh: bool = False) -> KeySet:
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    uri = metadata(client)["jwks_uri"]
    if refresh or uri not in _jwks:
        _jwks[uri] = _get_json(client, uri)
    try:
        return KeySet.import_key_set(_jwks[uri])  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise Refused(f"{client.name} publishes signing keys we cannot read.", 502) from exc


# --- the code flow -------------------------------------------------------------------------------------------------


def _oauth(client: Client, redirect_uri: str) -> OAuth2Session:
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(
        client.client_id,
        client.client_secret,
        scope=client.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


def authorization(client: Client, redirect_uri: str) -> tuple[str, dict[str, str]]:
    """Where to send the browser, and what to keep until it comes back: state, nonce and the PKCE verifier."""
    from authlib.common.security import generate_token

    pending = {"state": generate_token(32), "nonce": generate_token(32), "verifier": generate_token(64)}
    with _oauth(client, redirect_uri) as oauth:
        url, _ = oauth.create_authorization_url(
            metadata(client)["authorization_endpoint"],
            state=pending["state"],
            nonce=pending["nonce"],
            code_verifier=pending["verifier"],
        )
    return url, pending


def exchange(client: Client, redirect_uri: str, code: str, verifier: str) -> dict[str, Any]:
    """The code for tokens at the token endpoint (with the PKCE verifier); Refused when the provider says no."""
    import requests
    from authlib.integrations.base_client.errors import OAuthError

    try:
        with _oauth(client, redirect_uri) as oauth:
            token = oauth.fetch_token(
                metadata(client)["token_endpoint"],
                code=code,
                code_verifier=verifier,
                grant_type="authorization_code",
                timeout=TIMEOUT,
                allow_redirects=False,
            )
    except OAuthError as exc:
        raise Refused(
            f"{client.name} did not accept the sign-in code ({exc.error}): it was used already or has expired. "
            "Sign in again."
        ) from exc
    except (requests.RequestException, ValueError) as exc:
        raise Refused(f"{client.name} could not be reached ({type(exc).__name__}). Try again later.", 502) from exc
    if not isinstance(token.get("id_token"), str):
        raise Refused(f"{client.name} sent no ID token. Check that the client is set up for OpenID Connect.")
    return dict(token)


def _decode(client: Client, id_token: str, algorithms: list[str]) -> jwt.Token:
    from joserfc import jwt
    from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError

    try:
        try:
            return jwt.decode(id_token, _keys(client), algorithms=algorithms)
        except InvalidKeyIdError:  # the provider rotated its keys: read them again, once
            return jwt.decode(id_token, _keys(client, refresh=True), algorithms=algorithms)
    except InvalidKeyIdError as exc:
        raise Refused(f"The ID token from {client.name} is signed with a key it does not publish.") from exc
    except BadSignatureError as exc:
        raise Refused(f"The ID token from {client.name} has a signature that does not match: it was altered.") from exc
    except (JoseError, ValueError) as exc:
        raise Refused(f"The ID token from {client.name} cannot be read ({type(exc).__name__}).") from exc


def id_claims(client: Client, token: dict[str, Any], nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, times (on the app's clock) and nonce check out."""
    from authlib.oidc.core import CodeIDToken
    from joserfc.errors import ExpiredTokenError, JoseError

    meta = metadata(client)
    algorithms = [a for a in meta.get("id_token_signing_alg_values_supported", ["RS256"]) if a != "none"]
    decoded = _decode(client, token["id_token"], algorithms)
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"essential": True, "value": client.issuer}, "aud": {"essential": True, "value": client.client_id}},
        {"nonce": nonce, "client_id": client.client_id, "access_token": token.get("access_token")},
    )
    try:
        # `now` from the app's clock, never the machine's: Authlib would read the system clock otherwise.
        claims.validate(now=int(utcnow().timestamp()), leeway=LEEWAY)
    except ExpiredTokenError as exc:
        raise Refused(f"The ID token from {client.name} has expired. Sign in again.") from exc
    except JoseError as exc:
        claim = getattr(exc, "claim", "") or str(exc)
        what = {"aud": "is meant for another application", "iss": "names another issuer", "nonce": "was not asked for"}
        raise Refused(
            f"The ID token from {client.name} {what.get(claim, f'has a wrong or missing claim ({claim})')}."
        ) from exc
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise Refused(f"The ID token from {client.name} names nobody (no subject).")
    return dict(claims)


def completed_claims(client: Client, token: dict[str, Any], claims: dict[str, Any], wanted: tuple[str, ...]) -> dict:
    """The checked ID token's claims, completed from the provider's userinfo endpoint (OpenID Connect Core 5.3) when
    the token leaves out a claim sign-in reads (many providers put e-mail, name or groups only there). The answer must
    be about the token's subject, or it is refused; where both say something, the signed ID token's claim stands. A
    provider that signs its userinfo answers (application/jwt) is not read: the ID token's claims are all there is."""
    endpoint = metadata(client).get("userinfo_endpoint")
    access = token.get("access_token")
    if all(name in claims for name in wanted) or not (isinstance(endpoint, str) and isinstance(access, str)):
        return claims
    try:
        response = httpx.get(
            endpoint,
            headers={"Authorization": f"Bearer {access}", "Accept": "application/json"},
            timeout=TIMEOUT,
            follow_redirects=False,
        )
        response.raise_for_status()
        if response.headers.get("content-type", "").startswith("application/jwt"):
            return claims
        info = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Refused(
            f"{client.name} could not be asked who you are ({type(exc).__name__}). Try again later.", 502
        ) from exc
    if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
        raise Refused(f"{client.name} answered about someone else when asked who you are. Sign in again.", 502)
    return {**info, **claims}


def logout_url(client: Client, id_token: str, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session address with our ID token as the hint, or None when it offers none."""
    try:
        endpoint = metadata(client).get("end_session_endpoint")
    except Refused:
        return None  # our own sign-out has happened; the provider's can only be skipped
    if not isinstance(endpoint, str):
        return None
    from authlib.common.urls import add_params_to_uri

    return add_params_to_uri(
        endpoint,
        [
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", post_logout_redirect_uri),
            ("client_id", client.client_id),
        ],
    )
