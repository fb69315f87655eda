"""The admin console: staff accounts, API keys and the programme catalogue (role admin).

    GET  /console/admin                          the accounts, and a form to invite someone
    POST /console/admin/accounts                 make an account: its invitation link, shown once
    GET  /console/admin/accounts/{id}/reset      "reset this account?" ...
    POST /console/admin/accounts/{id}/reset      ... its password and code taken away, its sessions ended: a new link
    GET  /console/admin/accounts/{id}/disable    "disable this account?" ...
    POST /console/admin/accounts/{id}/disable    ... disabled for good (its sessions end)
    GET  /console/admin/keys                     the API keys, and a form to make one
    POST /console/admin/keys                     make a key: shown once
    GET  /console/admin/keys/{id}/revoke         "revoke this key?" ...
    POST /console/admin/keys/{id}/revoke         ... revoked
    GET  /console/admin/programmes               the catalogue, and a form to add a programme
    POST /console/admin/programmes               add it (the same function as the API's POST /programmes)
    GET  /console/admin/log                      the audit log, newest first (?act=, ?account=, ?page=)

Each act calls the function the CLI (`hub users`, `hub keys`) calls, service.web.acts: the act of service.web.signin,
service.auth or service.api.programmes with its line in the audit log, in one transaction. An act asked about
first ("... this account?") is a `ConfirmedAct`: one question, one act. Every form carries the session's CSRF token
and works without script.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from service import auth
from service.api.deps import HubDep
from service.api.programmes import ProgrammeCreate, programmes
from service.chain.keys import KeyConfigurationError, refuse_well_known
from service.credentials.document import HUB_THEMES
from service.db import models
from service.errors import Conflict, HubError
from service.hub import Hub
from service.i18n import N_, _
from service.pages import paths  # registers the rowid path convertor; row_id
from service.pages.console import console_page, expired_form, form_is_genuine, require_staff
from service.web import acts, audit, signin
from service.web.staff import Staff, StaffRole

router = APIRouter(include_in_schema=False)

ROLE_LABELS = {"partner": N_("Partner staff"), "board": N_("Board member"), "admin": N_("Admin")}
STATE_LABELS = {
    signin.AccountState.INVITED: N_("Invited (no password yet)"),
    signin.AccountState.SECOND_FACTOR: N_("Password set, code app not yet"),
    signin.AccountState.ACTIVE: N_("Active"),
    signin.AccountState.DISABLED: N_("Disabled"),
}
KEY_ROLE_LABELS = {"admin": N_("Admin"), "issuer": N_("Issuing partner"), "member": N_("Board member")}
DONE = {
    "disabled": N_("The account is disabled; its sessions have ended."),
    "revoked": N_("The key is revoked: it opens nothing from now on."),
    "programme": N_("The programme is added to the catalogue."),
}
# what each programme field needs, said where the form refuses it
PROGRAMME_HINTS = {
    "id": N_("Programme id: 3 to 64 lowercase letters, digits and hyphens, for example miw-data-analytics."),
    "name": N_("Name: give the programme's name (at most 200 characters)."),
    "theme": N_("Theme: choose one of the hub's themes."),
    "description": N_("Description: describe the programme (at most 5,000 characters)."),
    "criteria": N_("Criteria: say what a graduate did to earn it (at most 5,000 characters)."),
    "achievement_type": N_("Kind: an Open Badges kind such as MicroCredential, Course or Certificate."),
    "ects": N_("Credits (ECTS): a number from 0 to 1000."),
    "eqf_level": N_("EQF level: a whole number from 1 to 8."),
    "issuer_address": N_("Issuing account: 0x followed by 40 hexadecimal characters."),
}
PROGRAMME_FIELDS = tuple(PROGRAMME_HINTS)


async def _admin_form(request: Request, hub: Hub) -> tuple[Staff, FormData] | Response:
    staff = require_staff(request, hub, StaffRole.ADMIN)
    if isinstance(staff, Response):
        return staff
    try:
        form = await request.form(max_files=0, max_fields=20, max_part_size=10_000)
    except Exception:  # noqa: BLE001 - starlette's parser raises several types for a body it cannot read
        return expired_form(request, staff)
    if not form_is_genuine(staff, form):
        return expired_form(request, staff)
    return staff, form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _done(request: Request) -> str | None:
    """The notice of an act that redirected here (?done=...)."""
    done = request.query_params.get("done")
    return str(DONE[done]) if done in DONE else None


def _actor(staff: Staff) -> audit.Actor:
    """The signed-in admin, as the audit log names them (with the request's client address)."""
    return audit.Actor.staff(staff.account_id, staff.email, staff.client_address)


# ---------------------------------------------------------------- confirm, then act


@dataclass(frozen=True)
class Question:
    """What the confirmation page asks before an act, and the button that does it."""

    title: str
    message: str
    button: str


@dataclass(frozen=True)
class ConfirmedAct:
    """An act on one account or key that a page asks about first: GET its path shows `ask`'s question (or
    `missing`'s page when there is nothing to act on), and the question's form POSTs to the same path, which
    does `act` for an admin whose form carries the session's CSRF token (else nothing is done)."""

    name: str
    section: str  # the console's section the pages belong to
    back: str  # where "Cancel" goes
    ask: Callable[[Hub, int], Question | None]
    missing: Callable[[Request, Hub, Staff, int], Response]
    act: Callable[[Request, Hub, Staff, int], Response]


def confirm_then_act(path: str, spec: ConfirmedAct) -> None:
    """Register GET `path` (the question) and POST `path` (the act) for `spec`; `path` ends in the target's
    `{target_id:rowid}`."""

    def confirm(target_id: int, request: Request, hub: HubDep) -> Response:
        staff = require_staff(request, hub, StaffRole.ADMIN)
        if isinstance(staff, Response):
            return staff
        question = spec.ask(hub, target_id)
        if question is None:
            return spec.missing(request, hub, staff, target_id)
        return console_page(
            request,
            "admin_confirm.html",
            staff,
            {
                "section": spec.section,
                "title": question.title,
                "message": question.message,
                "action": path.replace("{target_id:rowid}", str(target_id)),
                "button": question.button,
                "back": spec.back,
            },
        )

    async def act(target_id: int, request: Request, hub: HubDep) -> Response:
        checked = await _admin_form(request, hub)
        if isinstance(checked, Response):
            return checked
        staff, _form = checked
        return spec.act(request, hub, staff, target_id)

    router.add_api_route(path, confirm, methods=["GET"], response_class=HTMLResponse, name=f"confirm_{spec.name}")
    router.add_api_route(path, act, methods=["POST"], response_class=HTMLResponse, name=spec.name)


# ---------------------------------------------------------------- accounts


def _accounts_page(
    request: Request,
    hub: Hub,
    staff: Staff,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with hub.sessions() as db:
        accounts = signin.list_accounts(db)
    return console_page(
        request,
        "admin_accounts.html",
        staff,
        {
            "section": "accounts",
            "accounts": accounts,
            "role_labels": {key: str(value) for key, value in ROLE_LABELS.items()},
            "state_labels": {key: str(value) for key, value in STATE_LABELS.items()},
            "error": error,
            "form": form or {"email": "", "name": "", "role": "partner", "address": ""},
            "done": _done(request),
        },
        status=status,
    )


@router.get("/console/admin", response_class=HTMLResponse)
def accounts(request: Request, hub: HubDep) -> Response:
    staff = require_staff(request, hub, StaffRole.ADMIN)
    if isinstance(staff, Response):
        return staff
    return _accounts_page(request, hub, staff)


def _link_page(
    request: Request, staff: Staff, hub: Hub, account: signin.AccountView, token: str, made: bool
) -> Response:
    return console_page(
        request,
        "admin_invitation.html",
        staff,
        {
            "section": "accounts",
            "account": account,
            "role_label": str(ROLE_LABELS[account.role.value]),
            "link": signin.invitation_url(hub.settings.public_url, token),
            "made": made,
            "days": signin.INVITATION_LIFETIME.days,
        },
    )


@router.post("/console/admin/accounts", response_class=HTMLResponse)
async def create_account(request: Request, hub: HubDep) -> Response:
    checked = await _admin_form(request, hub)
    if isinstance(checked, Response):
        return checked
    staff, form = checked
    kept = {name: _text(form, name) for name in ("email", "name", "role", "address")}
    try:
        with hub.sessions() as db:
            account, token = acts.invite(db, _actor(staff), kept["email"], kept["name"], kept["role"], kept["address"])
            db.commit()
    except signin.AccountProblem as problem:
        return _accounts_page(request, hub, staff, error=str(problem), form=kept, status=422)
    return _link_page(request, staff, hub, account, token, made=True)


def _account_or_none(hub: Hub, account_id: int) -> signin.AccountView | None:
    with hub.sessions() as db:
        return next((account for account in signin.list_accounts(db) if account.id == account_id), None)


def _no_account(request: Request, hub: Hub, staff: Staff, account_id: int) -> Response:
    return console_page(
        request,
        "console_message.html",
        staff,
        {"title": _("There is no account %(id)s.", id=account_id), "message": _("Go back to the accounts.")},
        status=404,
    )


def _ask_reset(hub: Hub, account_id: int) -> Question | None:
    account = _account_or_none(hub, account_id)
    if account is None or account.state is signin.AccountState.DISABLED:
        return None
    return Question(
        _("Reset the account of %(name)s?", name=account.name),
        _(
            "%(name)s (%(email)s) is signed out everywhere, the password and the code app stop working, and you "
            "get a new invitation link to send. Do this when the password or the phone is lost.",
            name=account.name,
            email=account.email,
        ),
        _("Yes, reset the account"),
    )


def _reset(request: Request, hub: Hub, staff: Staff, account_id: int) -> Response:
    try:
        with hub.sessions() as db:
            account, token = acts.reset(db, _actor(staff), account_id)
            db.commit()
    except signin.AccountProblem as problem:
        return _accounts_page(request, hub, staff, error=str(problem), status=409)
    return _link_page(request, staff, hub, account, token, made=False)


def _ask_disable(hub: Hub, account_id: int) -> Question | None:
    account = _account_or_none(hub, account_id)
    if account is None or account.state is signin.AccountState.DISABLED:
        return None
    return Question(
        _("Disable the account of %(name)s?", name=account.name),
        _(
            "%(name)s (%(email)s) is signed out everywhere and can never sign in with this account again. "
            "This cannot be undone.",
            name=account.name,
            email=account.email,
        ),
        _("Yes, disable the account"),
    )


def _disable(request: Request, hub: Hub, staff: Staff, account_id: int) -> Response:
    if account_id == staff.account_id:
        return _accounts_page(
            request,
            hub,
            staff,
            error=_("You cannot disable your own account: another admin can, so the hub always keeps one."),
            status=409,
        )
    try:
        with hub.sessions() as db:
            acts.disable(db, _actor(staff), account_id)
            db.commit()
    except signin.AccountProblem as problem:
        return _accounts_page(request, hub, staff, error=str(problem), status=404)
    return RedirectResponse("/console/admin?done=disabled", status_code=303)


confirm_then_act(
    "/console/admin/accounts/{target_id:rowid}/reset",
    ConfirmedAct("reset_account", "accounts", "/console/admin", _ask_reset, _no_account, _reset),
)
confirm_then_act(
    "/console/admin/accounts/{target_id:rowid}/disable",
    ConfirmedAct("disable_account", "accounts", "/console/admin", _ask_disable, _no_account, _disable),
)


# ---------------------------------------------------------------- API keys


def _keys_page(
    request: Request,
    hub: Hub,
    staff: Staff,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with hub.sessions() as db:
        keys = [
            {
                "id": key.id,
                "role": str(KEY_ROLE_LABELS.get(key.role, key.role)),
                "name": key.name,
                "address": key.address,
                "prefix": key.prefix,
                "created_at": signin.aware(key.created_at),
                "revoked_at": signin.aware(key.revoked_at),
            }
            for key in auth.list_keys(db)
        ]
    return console_page(
        request,
        "admin_keys.html",
        staff,
        {
            "section": "keys",
            "keys": keys,
            "key_roles": {key: str(value) for key, value in KEY_ROLE_LABELS.items()},
            "error": error,
            "form": form or {"role": "issuer", "name": "", "address": ""},
            "done": _done(request),
        },
        status=status,
    )


@router.get("/console/admin/keys", response_class=HTMLResponse)
def keys(request: Request, hub: HubDep) -> Response:
    staff = require_staff(request, hub, StaffRole.ADMIN)
    if isinstance(staff, Response):
        return staff
    return _keys_page(request, hub, staff)


@router.post("/console/admin/keys", response_class=HTMLResponse)
async def create_key(request: Request, hub: HubDep) -> Response:
    checked = await _admin_form(request, hub)
    if isinstance(checked, Response):
        return checked
    staff, form = checked
    kept = {name: _text(form, name) for name in ("role", "name", "address")}
    if kept["role"] not in KEY_ROLE_LABELS:
        return _keys_page(request, hub, staff, error=_("Choose what the key is for."), form=kept, status=422)
    if not kept["name"] or len(kept["name"]) > 200:
        return _keys_page(request, hub, staff, error=_("Give the key holder's name."), form=kept, status=422)
    try:
        chain_id = hub.settings.chain_id
        if kept["role"] != "admin" and kept["address"] and chain_id is not None:
            refuse_well_known(kept["address"], chain_id, f"the {kept['role']}'s account")
        with hub.sessions() as db:
            token, record = acts.create_key(db, _actor(staff), kept["role"], kept["name"], kept["address"] or None)
            db.commit()
            made = {"id": record.id, "name": record.name, "role": str(KEY_ROLE_LABELS[record.role])}
    except (HubError, KeyConfigurationError, ValueError):
        message = (
            _("An admin key has no account address: leave it empty.")
            if kept["role"] == "admin"
            else _(
                "Give the account address (0x followed by 40 hexadecimal characters): the partner's issuing "
                "account, or the board member's account. A development account whose key is public is refused "
                "outside a development chain."
            )
        )
        return _keys_page(request, hub, staff, error=message, form=kept, status=422)
    return console_page(request, "admin_key_made.html", staff, {"section": "keys", "key": made, "token": token})


def _ask_revoke(hub: Hub, key_id: int) -> Question | None:
    with hub.sessions() as db:
        key = db.get(models.ApiKey, key_id)
        if key is None or key.revoked_at is not None:
            return None
        name, prefix = key.name, key.prefix
    return Question(
        _("Revoke key %(number)s of %(name)s?", number=key_id, name=name),
        _(
            "Programs that use the key starting with %(prefix)s get no access from now on. This cannot be undone: "
            "make a new key if it is needed again.",
            prefix=prefix,
        ),
        _("Yes, revoke the key"),
    )


def _no_key(request: Request, hub: Hub, staff: Staff, key_id: int) -> Response:
    return _keys_page(request, hub, staff, error=_("There is no API key %(id)s.", id=key_id), status=404)


def _revoke(request: Request, hub: Hub, staff: Staff, key_id: int) -> Response:
    try:
        with hub.sessions() as db:
            acts.revoke_key(db, _actor(staff), key_id)
            db.commit()
    except HubError:
        return _no_key(request, hub, staff, key_id)
    return RedirectResponse("/console/admin/keys?done=revoked", status_code=303)


confirm_then_act(
    "/console/admin/keys/{target_id:rowid}/revoke",
    ConfirmedAct("revoke_key", "keys", "/console/admin/keys", _ask_revoke, _no_key, _revoke),
)


# ---------------------------------------------------------------- programmes


def _programmes_page(
    request: Request,
    hub: Hub,
    staff: Staff,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    with hub.sessions() as db:
        catalogue = programmes(db)
    return console_page(
        request,
        "admin_programmes.html",
        staff,
        {
            "section": "programmes",
            "programmes": catalogue,
            "themes": HUB_THEMES,
            "errors": errors or [],
            "form": form
            or {**dict.fromkeys(PROGRAMME_FIELDS, ""), "achievement_type": "MicroCredential", "graded": "yes"},
            "done": _done(request),
        },
        status=status,
    )


@router.get("/console/admin/programmes", response_class=HTMLResponse)
def programmes_page(request: Request, hub: HubDep) -> Response:
    staff = require_staff(request, hub, StaffRole.ADMIN)
    if isinstance(staff, Response):
        return staff
    return _programmes_page(request, hub, staff)


@router.post("/console/admin/programmes", response_class=HTMLResponse)
async def add_programme_form(request: Request, hub: HubDep) -> Response:
    checked = await _admin_form(request, hub)
    if isinstance(checked, Response):
        return checked
    staff, form = checked
    kept: dict[str, Any] = {name: _text(form, name) for name in PROGRAMME_FIELDS}
    kept["graded"] = "yes" if _text(form, "graded") == "yes" else "no"
    body = {**kept, "graded": kept["graded"] == "yes"}
    try:
        programme = ProgrammeCreate.model_validate(body)
    except ValidationError as invalid:
        fields = [str(error["loc"][0]) for error in invalid.errors() if error["loc"]]
        errors = [str(PROGRAMME_HINTS[name]) for name in PROGRAMME_FIELDS if name in fields]
        return _programmes_page(request, hub, staff, errors=errors or [_("Check the form.")], form=kept, status=422)
    try:
        with hub.sessions() as db:
            acts.add_programme(db, _actor(staff), programme)
    except Conflict:
        message = _(
            "There is already a programme %(id)s. A programme id is permanent: choose another.", id=programme.id
        )
        return _programmes_page(request, hub, staff, errors=[message], form=kept, status=409)
    return RedirectResponse("/console/admin/programmes?done=programme", status_code=303)


# ---------------------------------------------------------------- the audit log


def _who(entry: audit.Entry) -> str:
    if entry.actor_kind is audit.ActorKind.CLI:
        return _("Command line (%(user)s)", user=entry.actor_name)
    if entry.actor_kind is audit.ActorKind.SYSTEM:
        return _("The hub (throttling)")
    if entry.actor_kind is audit.ActorKind.KEY:
        return _("API key %(number)s of %(name)s", number=entry.actor_id, name=entry.actor_name)
    return entry.actor_name


def _subject(entry: audit.Entry) -> str:
    kind = {"account": _("Account"), "key": _("API key"), "programme": _("Programme")}.get(entry.subject_kind, "")
    if entry.subject_id is None:
        return _("an unknown e-mail address")
    return f"{kind} {entry.subject_id}" + (f": {entry.subject_name}" if entry.subject_name else "")


@router.get("/console/admin/log", response_class=HTMLResponse)
def audit_log(request: Request, hub: HubDep) -> Response:
    """The audit log, newest first, a page of audit.PAGE_SIZE; ?act= and ?account= filter it, ?page= pages."""
    staff = require_staff(request, hub, StaffRole.ADMIN)
    if isinstance(staff, Response):
        return staff
    query = request.query_params
    act = query.get("act", "")
    chosen = audit.Act(act) if act in audit.Act._value2member_map_ else None
    account_id = paths.row_id(query.get("account", ""))
    number = paths.row_id(query.get("page", "")) or 1  # past the last: the last
    with hub.sessions() as db:
        found = audit.entries(db, act=chosen, account_id=account_id, page=number)
        accounts = signin.list_accounts(db)
    filters = {
        **({"act": chosen.value} if chosen else {}),
        **({"account": str(account_id)} if account_id is not None else {}),
    }
    return console_page(
        request,
        "admin_log.html",
        staff,
        {
            "section": "log",
            "entries": [
                {
                    "at": entry.at,
                    "who": _who(entry),
                    "act": str(audit.act_label(entry.act)),
                    "subject": _subject(entry),
                    "client": entry.client_address,
                }
                for entry in found.entries
            ],
            "acts": {act.value: str(label) for act, label in audit.ACT_LABELS.items()},
            "accounts": accounts,
            "chosen_act": chosen.value if chosen else "",
            "chosen_account": account_id,
            "filtered": bool(filters),
            "page": found,
            "previous": f"/console/admin/log?{urlencode({**filters, 'page': found.number - 1})}"
            if found.number > 1
            else None,
            "next": f"/console/admin/log?{urlencode({**filters, 'page': found.number + 1})}"
            if found.number < found.pages
            else None,
        },
    )
