"""Pages: signing in with an OpenID provider (the start and the callback), and the admins' sign-in page (providers,
group mappings, the password policy)."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from tracker.accounts import signin
from tracker.accounts.mfa import REQUIRED_WORDS
from tracker.accounts.models import User
from tracker.accounts.signin import Method
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, Forbidden, FormError, StaleEdit
from tracker.core.forms import form_version, parse, stale_fields
from tracker.core.web import flash, redirect, render, safe_next
from tracker.projects.models import ROLE_LABELS, Project
from tracker.sso import protocol, providers, service
from tracker.sso.models import OidcProvider
from tracker.sso.protocol import Refused

Form = URLEncodedBody[dict[str, Any]]
PENDING_SECONDS = 600  # how long a started sign-in may take at the provider


def _callback_uri(request: Request, key: str) -> str:
    # From the configured address, never the request's Host header: the provider only sends codes to addresses
    # registered with it.
    return f"{request.app.state.settings.base_url.rstrip('/')}/login/oidc/{key}/callback"


@get("/login/oidc/{key:str}", sync_to_thread=True, include_in_schema=False)
def start(
    request: Request,
    db: NamedDependency[Session],
    key: FromPath[str],
    next_: Annotated[str | None, QueryParameter(name="next")] = None,
) -> Template | Redirect:
    config = providers.find(db, request.app.state.settings, key)
    try:
        url, pending = protocol.authorization(config.client, _callback_uri(request, key))
    except Refused as exc:
        return _refused_page(request, db, config, exc)
    # Kept in the signed, encrypted session cookie until the provider sends the browser back; used once.
    pending |= {"key": key, "next": safe_next(next_), "at": int(utcnow().timestamp())}
    request.set_session({**request.session, "oidc": pending})
    return Redirect(path=url, status_code=303)


@get("/login/oidc/{key:str}/callback", sync_to_thread=True, include_in_schema=False)
def callback(request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template | Redirect:
    settings = request.app.state.settings
    config = providers.find(db, settings, key)
    pending = request.session.get("oidc")
    if pending is not None:
        request.set_session({k: v for k, v in request.session.items() if k != "oidc"})  # single use, whatever follows
    params = request.query_params
    try:
        _check_response(config, pending, params)
        token = protocol.exchange(config.client, _callback_uri(request, key), params["code"], pending["verifier"])
        claims = protocol.id_claims(config.client, token, pending["nonce"])
        claims = protocol.completed_claims(config.client, token, claims, service.read_claims(config))
    except Refused as exc:
        return _refused_page(request, db, config, exc)
    provider = providers.row_of(db, config)
    try:
        user = service.sign_in(db, config, provider, claims)
    except Refused as exc:  # already on the trail, with the person's claims
        return render(request, "sso/refused.html", status=exc.status, message=exc.message, provider=config.name)
    # The session remembers the provider and ID token, for signing out there too.
    sso = {"key": key, "id_token": token["id_token"]}
    signin.complete(request, db, user, Method.OIDC, provider=config.name, session={"sso": sso})
    return redirect(pending["next"])


def _check_response(config: providers.Config, pending: Any, params: Any) -> None:
    """The provider's answer belongs to the sign-in this browser started, in time, from that provider."""
    if params.get("error"):
        detail = params.get("error_description") or params.get("error")
        raise Refused(f"{config.name} did not sign you in: {detail[:200]}.", 403)
    state = params.get("state") or ""
    if not (
        isinstance(pending, dict)
        and pending.get("key") == config.key
        and isinstance(pending.get("state"), str)
        and hmac.compare_digest(state.encode(), pending["state"].encode())
    ):
        raise Refused(
            "This sign-in answer does not belong to a sign-in started in this browser, or it was used already. "
            "Sign in again."
        )
    if utcnow().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        raise Refused("The sign-in took too long. Sign in again.")
    if params.get("iss") and params["iss"] != config.issuer:  # RFC 9207: the answer names who sent it
        raise Refused(f"The sign-in answer came from another issuer than {config.name}.")
    if not params.get("code"):
        raise Refused(f"{config.name} sent no sign-in code.")


def _refused_page(request: Request, db: Session, config: providers.Config, exc: Refused) -> Template:
    service.refused(db, providers.row_of(db, config), exc.message)
    return render(request, "sso/refused.html", status=exc.status, message=exc.message, provider=config.name)


# --- administration --------------------------------------------------------------------------------------------------


def admin_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not connection.user.is_admin:
        raise Forbidden(detail="Only admins set up sign-in.")


def _grant_options() -> list[tuple[str, str]]:
    return [(service.ADMIN_GRANT, "Admin (every project)")] + [(r.value, label) for r, label in ROLE_LABELS.items()]


def _admin_page(request: Request, db: Session, status: int = 200, **extra: Any) -> Template:
    rules = service.policy(db)
    rows = providers.admin_rows(db)
    context = {
        "providers": rows,
        "masked": providers.masked,
        "env_unsynced": providers.from_env(request.app.state.settings) is not None
        and not any(r.from_env for r in rows),
        "mappings": service.mappings(db),
        "grants": service.grants,
        "grant_options": _grant_options(),
        "provider_options": [(r.id, r.name) for r in rows],
        "project_options": [
            (pid, f"{key} — {name}")
            for pid, key, name in db.exec(select(Project.id, Project.key, Project.name).order_by(Project.key))
        ],
        "admins": list(db.exec(select(User).where(col(User.is_admin), col(User.is_active)).order_by(User.username))),
        "policy": {
            "local_passwords": rules.local_passwords,
            "break_glass_ids": rules.break_glass_ids,
            "mfa_required": rules.mfa_required,
            "version": rules.version,
        },
        "mfa_choices": list(REQUIRED_WORDS.items()),
        "policy_errors": {},
        "mapping": {},
        "mapping_errors": {},
        "stale": None,
        "history": audit.for_entity(db, "sign_in_policy", service.POLICY_ID, limit=20),
    }
    return render(request, "sso/admin.html", status=status, **(context | extra))


def _provider_form(request: Request, row: OidcProvider | None, form: Any, status: int = 200, **extra: Any) -> Template:
    """The provider's form; for one that exists, also its history and whether it may be removed (`people`: how many
    sign in with it)."""
    context = {"row": row, "form": form, "errors": {}, "stale": None, "masked": providers.masked, "history": []}
    context["labels"] = providers.PROVIDER_LABELS
    context |= {"people": None, "refused": None}
    return render(request, "sso/provider_form.html", status=status, **(context | extra))


class SignInAdminController(Controller):
    path = "/admin/sign-in"
    guards = [admin_required]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session]) -> Template:
        return _admin_page(request, db)

    @post("/policy", sync_to_thread=True)
    def save_policy(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        ids = data.get("break_glass_ids") or []
        data = {**data, "break_glass_ids": ids if isinstance(ids, list) else [ids]}
        try:
            service.save_policy(db, request.user, parse(service.PolicyForm, data))
        except StaleEdit:
            return _admin_page(
                request,
                db,
                status=409,
                policy_errors={"local_passwords": "Someone changed the policy meanwhile; it is shown as saved now."},
            )
        except FormError as exc:
            kept = {
                "local_passwords": data.get("local_passwords") not in (None, "false", ["false"]),
                "break_glass_ids": [int(i) for i in data["break_glass_ids"] if str(i).isdigit()],
                "mfa_required": str(data.get("mfa_required") or ""),
                "version": data.get("version"),
            }
            return _admin_page(request, db, status=422, policy=kept, policy_errors=exc.errors)
        flash(request, "Sign-in policy saved.")
        return redirect("/admin/sign-in")

    @post("/mappings", sync_to_thread=True)
    def add_mapping(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        try:
            mapping = service.add_mapping(db, request.user, parse(service.MappingForm, data))
        except FormError as exc:
            return _admin_page(request, db, status=422, mapping=data, mapping_errors=exc.errors)
        flash(request, f"Group “{mapping.group_name}” mapped.")
        return redirect("/admin/sign-in#mappings")

    @post("/mappings/{mapping_id:int}/delete", sync_to_thread=True)
    def delete_mapping(self, request: Request, db: NamedDependency[Session], mapping_id: FromPath[int]) -> Redirect:
        mapping = service.delete_mapping(db, request.user, mapping_id)
        flash(request, f"Mapping of group “{mapping.group_name}” removed.")
        return redirect("/admin/sign-in#mappings")

    @get("/providers/new", sync_to_thread=False)
    def new_provider(self, request: Request) -> Template:
        return _provider_form(request, None, {"enabled": True, "groups_claim": "groups", "scopes": protocol.SCOPES})

    @post("/providers", sync_to_thread=True)
    def create_provider(self, request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
        try:
            row = providers.create(db, request.user, parse(providers.ProviderForm, data))
        except FormError as exc:
            return _provider_form(request, None, _kept(data), status=422, errors=exc.errors)
        flash(request, f"Provider {row.name} added.")
        return redirect("/admin/sign-in")

    @get("/providers/{provider_id:int}", sync_to_thread=True)
    def edit_provider(self, request: Request, db: NamedDependency[Session], provider_id: FromPath[int]) -> Template:
        row = providers.get(db, provider_id)
        form = audit.snapshot(row, providers.PROVIDER_FIELDS) | {"version": row.version}
        history = audit.for_entity(db, "oidc_provider", row.id, limit=30)
        return _provider_form(request, row, form, history=history, people=providers.users_of(db, row))

    @post("/providers/{provider_id:int}", sync_to_thread=True)
    def update_provider(
        self, request: Request, db: NamedDependency[Session], provider_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        row = providers.get(db, provider_id)
        history = audit.for_entity(db, "oidc_provider", row.id, limit=30)
        try:
            providers.update(db, request.user, row, parse(providers.ProviderForm, data))
        except StaleEdit as exc:
            form = _kept(data) | {"version": row.version}
            stale = stale_fields(exc.current, data)
            return _provider_form(request, row, form, status=409, stale=stale, history=history)
        except FormError as exc:
            return _provider_form(request, row, _kept(data), status=422, errors=exc.errors, history=history)
        flash(request, f"Provider {row.name} saved.")
        return redirect("/admin/sign-in")

    @post("/providers/{provider_id:int}/delete", sync_to_thread=True)
    def delete_provider(
        self, request: Request, db: NamedDependency[Session], provider_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        row = providers.get(db, provider_id)
        try:
            providers.delete(db, request.user, row, form_version(data))
        except (StaleEdit, Conflict) as exc:  # the provider as it is now, with why it stays
            form = audit.snapshot(row, providers.PROVIDER_FIELDS) | {"version": row.version}
            history = audit.for_entity(db, "oidc_provider", row.id, limit=30)
            people = providers.users_of(db, row)
            return _provider_form(request, row, form, status=409, refused=exc.detail, history=history, people=people)
        flash(request, f"Provider {row.name} removed.")
        return redirect("/admin/sign-in")


def _kept(data: dict[str, Any]) -> dict[str, Any]:
    """The form as typed, except the secret, which is never sent back to the browser."""
    return {k: v for k, v in data.items() if k != "client_secret"}


handlers = [start, callback, SignInAdminController]
