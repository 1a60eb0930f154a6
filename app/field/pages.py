"""The field app's shared page machinery: the blueprint, sign-in guard, static files, presenters.

Server-rendered and small: one page is one request for its HTML (styles inline, no framework),
so a first visit on one bar of signal stays well under 100 KB. Sessions and the CSRF token are the
web desk's own (app/web/views.py): one sign-in at /login serves both. The pages themselves are in
batch_pages, stage_pages, site_pages, coop_pages and sync_pages (app/field/views.py gathers them).
"""

import datetime as dt
import hashlib
import mimetypes
import secrets
from collections.abc import Callable
from decimal import Decimal
from functools import cache, wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, redirect, request, send_file, send_from_directory, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound as PageNotFound
from werkzeug.security import safe_join

from app import access
from app.auth import Actor, current_actor
from app.batches.schemas import stage_name
from app.errors import Forbidden, NotFound
from app.field import service
from app.sync.service import Outcome, run_once
from app.units import QUANTITY_UNITS, STORED_NAMES
from app.web.views import _check_csrf, csrf_token

bp = Blueprint("field", __name__, url_prefix="/field", template_folder="templates")
STATIC = Path(__file__).resolve().parent / "static"
# Vendored files carry their version in their path and never change: cached for a year. Our own
# scripts are addressed with a hash of their content (static_url), so they may be cached as long.
STATIC_MAX_AGE = 365 * 24 * 3600
QR_DECODER = "vendor/qr-scanner-1.4.2/qr-scanner.umd.min.js"
bp.before_request(_check_csrf)

# Who works in the field app; inspectors, admins and the lab use the desk.
FIELD_ROLES = access.FIELD_ROLES
CREATOR_ROLES = access.BATCH_CREATOR_ROLES
F = TypeVar("F", bound=Callable[..., Any])


def lang_args() -> dict[str, Any]:
    """Carry an explicit ``?lang=`` from page to page (the switch is per request, not stored)."""
    wanted = request.args.get("lang", "")
    return {"lang": wanted} if wanted in ("zh", "en") else {}


def field_url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, **values, **lang_args())


@bp.context_processor
def _inject() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "field_url": field_url,
        "english": _english(),
        "stage_name": _stage_name,
        "org_name": org_name,
        "static_url": static_url,
        "qr_decoder": QR_DECODER,
        "new_key": new_key,
        "field_actor": field_actor,
        "service_worker_url": service_worker_url,
    }


@cache
def _content_hash(filename: str) -> str:
    return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:10]


def static_url(filename: str) -> str:
    return url_for("field.static_file", filename=filename, v=_content_hash(filename))


@bp.get("/static/<path:filename>")
def static_file(filename: str) -> Any:
    """The field app's scripts, sent gzipped (a stored .gz copy) when the browser accepts it."""
    zipped = safe_join(str(STATIC), filename + ".gz")
    if zipped and "gzip" in request.accept_encodings and Path(zipped).is_file():
        response = send_file(zipped, mimetype=mimetypes.guess_type(filename)[0], max_age=STATIC_MAX_AGE)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response
    response = send_from_directory(STATIC, filename, max_age=STATIC_MAX_AGE)
    response.vary.add("Accept-Encoding")
    return response


def service_worker_url() -> str:
    return url_for("field.service_worker", v=_content_hash("sw.js"))


@bp.get("/sw.js")
def service_worker() -> Any:
    """The service worker, served from /field/ so that its scope is the field app's pages."""
    response = send_from_directory(STATIC, "sw.js", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _english() -> bool:
    return str(get_locale()) == "en"


def _stage_name(stage: str) -> str:
    return stage_name(stage, "en" if _english() else "zh")


def org_name(org: Any) -> str:
    return org.name_en if _english() and org.name_en else org.name


def field_actor() -> Actor:
    who = current_actor(optional=True)
    assert who is not None
    return who


def field_required(view: F) -> F:
    """Signed-in farmers, cooperatives and handlers; others are sent to sign in, or refused."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = current_actor(optional=True)
        if who is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?"), **lang_args()))
        if who.role not in FIELD_ROLES:
            raise Forbidden(_("田间记录仅供农户、合作社和经营主体使用。"))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _page_batch(batch_id: int) -> Any:
    try:
        return service.get_my_batch(field_actor(), batch_id)
    except NotFound:
        raise PageNotFound() from None


def quantity_text(quantity: Any, unit: str) -> str:
    """A stored figure in the farmer's words: 100.000 kg → 100 公斤 (kg in English)."""
    return f"{_plain(quantity)} {unit if _english() else STORED_NAMES.get(unit, unit)}"


def _plain(figure: Any) -> str:
    """100.000 → 100, 12.500 → 12.5: a figure as people write it."""
    return format(Decimal(str(figure)).normalize(), "f")


def entered_text(entered: Any) -> str:
    unit = QUANTITY_UNITS.get(entered.unit)
    return f"{_plain(entered.quantity)} {_(unit.label) if unit else entered.unit}"


# --- writes: each form post is one write, stored once under its client-made id -----------------------


def new_key() -> str:
    """A client-made id for one submission, put in the form: a double tap or a resend stores it once."""
    return "field-" + secrets.token_urlsafe(18)


def _device_time(text: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def submit(kind: str, **target: Any) -> Outcome:
    """This request's form as the write ``kind`` (app/sync/handlers.py), once per idempotency_key."""
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    device_time = _device_time(form.get("device_time", ""))
    return run_once(field_actor(), form.get("idempotency_key"), kind, target, form, device_time)
