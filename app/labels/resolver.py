"""The service as its own GS1 Digital Link resolver, and the unit pages a label's QR code opens.

``/01/{gtin14}/10/{lot}[/21/{serial}]`` and ``/u/{serial}`` answer:

- a browser: the consumer page, with the unit's facts and its 验证真伪 form (200); a recalled lot
  still 200, with its notice; a voided serial a 410 page that says so;
- ``?linkType=all`` or ``Accept: application/linkset+json``: the RFC 9264 linkset
  (``gs1:pip``, ``gs1:certificationInfo``, ``gs1:traceability``, and ``gs1:recallStatus`` when
  recalled); another known link type a 307 to its target; an unknown one a 404 in the API's
  error shape;
- a GTIN-8, -12 or -13 path: 301 to its GTIN-14 form; qualifiers out of GS1's order: 404.

Every answer varies by ``Accept`` and ``Accept-Language``. Each page view of a unit is a scan.
``/.well-known/gs1resolver`` describes the resolver.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, current_app, jsonify, make_response, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app import clock
from app.batches.models import Batch, BatchStatus
from app.db import db
from app.errors import DomainError, error_body
from app.labels import digital_link, scans, serials
from app.labels.models import Unit
from app.labels.views import check_pin, verification_out
from app.public import consumer

bp = Blueprint("resolver", __name__, template_folder="templates")


@bp.record_once
def _thresholds_from_environment(state: Any) -> None:
    """The anomaly rules' thresholds (scans.THRESHOLDS) from the environment, read once at start."""
    for name in scans.THRESHOLDS:
        if name in os.environ and name not in state.app.config:
            state.app.config[name] = float(os.environ[name])


GS1_VOC = "https://gs1.org/voc/"
LINKSET_TYPE = "application/linkset+json"
# The link types this resolver serves: key in ?linkType= (gs1: prefix), what they point at.
LINK_TYPES = ("pip", "certificationInfo", "traceability", "recallStatus")


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def _vary(response: BaseResponse) -> BaseResponse:
    response.vary.add("Accept")
    response.vary.add("Accept-Language")
    return response


def _error(code: int, message: str) -> BaseResponse:
    """The API's error shape, for a machine that asked for a link."""
    response = jsonify(error_body(code, message))
    response.status_code = code
    return _vary(response)


def _not_found() -> BaseResponse:
    return _vary(make_response(render_template("public/not_found.html"), 404))


def _base() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"])


def links(batch: Batch, lang: str) -> dict[str, dict[str, Any]]:
    """The targets of the link types that apply to ``batch`` (recallStatus only when recalled)."""
    page = f"{_base()}/t/{batch.public_code}"
    targets = {
        "pip": (page, _("产品信息"), "text/html"),
        "certificationInfo": (f"{page}#standards", _("执行标准、检测与认证"), "text/html"),
        "traceability": (f"{_base()}/api/v1/public/{batch.public_code}", _("溯源记录"), "application/json"),
    }
    if batch.status == BatchStatus.recalled:
        targets["recallStatus"] = (f"{page}#recall", _("召回公告"), "text/html")
    return {
        key: {"href": href, "title": title, "type": mime, "hreflang": [lang]}
        for key, (href, title, mime) in targets.items()
    }


def linkset(anchor: str, batch: Batch, lang: str) -> dict[str, Any]:
    """RFC 9264's JSON form: one context object, the anchor and its links by relation type."""
    found = links(batch, lang)
    product = batch.product.name_en if lang == "en" else batch.product.name_zh
    context: dict[str, Any] = {"anchor": anchor, "itemDescription": f"{product} {batch.lot_code}"}
    for key, target in found.items():
        context[GS1_VOC + key] = [target]
    context[GS1_VOC + "defaultLink"] = [found["pip"]]
    return {"linkset": [context]}


def _link_type(value: str) -> str | None:
    for prefix in ("gs1:", GS1_VOC):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return None


def answer(anchor: str, batch: Batch, unit: Unit | None) -> BaseResponse:
    """What the resolver says for ``anchor``: a page, a linkset, a redirect or an error."""
    lang = _lang()
    wanted = request.args.get("linkType")
    best = request.accept_mimetypes.best_match(["text/html", LINKSET_TYPE], default="text/html")
    if unit is not None and unit.voided_at is not None:
        scans.log_scan(unit, _client(), clock.now())
        # A 410 is rolled back by the request's own commit rule; this scan is the evidence of a
        # copied label, so it is committed here, the one write this request makes.
        db.session.commit()
        return _vary(make_response(render_template("labels/voided.html", serial=unit.serial), 410))
    if wanted and wanted != "all":
        key = _link_type(wanted)
        target = links(batch, lang).get(key) if key else None
        if target is None:
            return _error(404, f"No link of type {wanted!r} for this item; the types served are "
                               + ", ".join(f"gs1:{k}" for k in links(batch, lang)) + ".")  # fmt: skip
        return _vary(redirect(target["href"], code=307))
    if wanted == "all" or best == LINKSET_TYPE:
        response = make_response(jsonify(linkset(anchor, batch, lang)))
        response.mimetype = LINKSET_TYPE
        return _vary(response)
    if unit is not None:
        scans.log_scan(unit, _client(), clock.now())
    return _vary(make_response(page(batch, unit)))


def page(batch: Batch, unit: Unit | None, result: dict[str, Any] | None = None) -> str:
    """The consumer page of ``batch``, with the unit's box when a unit's code was scanned."""
    loaded = consumer.load_batch(batch.id)
    assert loaded is not None
    view = consumer.consumer_view(loaded, _base(), _lang())
    return render_template("public/batch.html", v=view, unit=unit_facts(unit, result) if unit else None)


def unit_facts(unit: Unit, result: dict[str, Any] | None) -> dict[str, Any]:
    first = clock.to_china(unit.verified_at).strftime("%Y-%m-%d %H:%M") if unit.verified_at else None
    return {
        "serial": unit.serial,
        "verifications": unit.verifications,
        "first_verified_on": first,
        "first_city": unit.verified_city,
        "verify_url": f"/u/{unit.serial}/verify",
        "result": result,
    }


def _client() -> scans.Client:
    return scans.client_of(request.remote_addr, request.headers.get("User-Agent", ""))


def _raw_path() -> str:
    # Percent-escapes kept: a lot code may hold "/" (as %2F), which GS1's parser must see escaped.
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    return urlsplit(raw).path if raw else quote(request.path)


@bp.get("/01/<path:tail>")
def resolve(tail: str) -> BaseResponse:
    """A Digital Link URI: the lot, or one unit of it."""
    path = _raw_path()
    try:
        parsed = digital_link.parse("https://resolver.invalid" + path)
    except digital_link.NotDigitalLink:
        return _not_found()
    if parsed.short_form or parsed.lot is None:
        if parsed.lot is None:
            return _not_found()
        canonical = path.replace(path.split("/01/", 1)[1].split("/", 1)[0], parsed.gtin14, 1)
        query = request.query_string.decode()
        return _vary(redirect(canonical + (f"?{query}" if query else ""), code=301))
    batch = db.session.scalar(select(Batch).where(Batch.lot_code == parsed.lot))
    if batch is None or batch.gtin is None or digital_link.gtin14(batch.gtin) != parsed.gtin14:
        return _not_found()
    unit = None
    if parsed.serial is not None:
        unit = db.session.scalar(select(Unit).where(Unit.serial == parsed.serial, Unit.batch_id == batch.id))
        if unit is None:
            return _not_found()
    return answer(_base() + path, batch, unit)


@bp.get("/u/<serial>")
def unit_by_serial(serial: str) -> BaseResponse:
    """A unit of a batch without a Digital Link (no GTIN): its page, linkset or links."""
    unit = _unit(serial)
    if unit is None:
        return _not_found()
    return answer(f"{_base()}/u/{unit.serial}", unit.batch, unit)


def _unit(serial: str) -> Unit | None:
    normalized = serials.normalize_serial(serial)
    if not serials.SERIAL_PATTERN.fullmatch(normalized):
        return None
    return db.session.scalar(select(Unit).where(Unit.serial == normalized))


@bp.post("/u/<serial>/verify")
def verify_form(serial: str) -> BaseResponse:
    """The 验证真伪 form on a unit's page: check the PIN, show the page with the answer."""
    unit = _unit(serial)
    if unit is None:
        return _not_found()
    if unit.voided_at is not None:
        return _vary(make_response(render_template("labels/voided.html", serial=unit.serial), 410))
    pin = (request.form.get("pin") or "").strip()
    status = 200
    if not serials.PIN_PATTERN.fullmatch(pin):
        result = {"genuine": False, "first": False, "message": _("请输入刮开涂层下的 8 位数字。")}
        status = 422
    else:
        try:
            result = verification_out(check_pin(unit.serial, pin))
        except DomainError as exc:
            result, status = {"genuine": False, "first": False, "message": exc.message}, exc.status_code
    db.session.refresh(unit)
    return _vary(make_response(page(unit.batch, unit, result), status))


@bp.get("/.well-known/gs1resolver")
def resolver_description() -> Response:
    """What this resolver serves, in the shape GS1's resolver standard describes."""
    return jsonify({
        "name": "Youpin Trace 咸宁优品溯源",
        "resolverRoot": _base(),
        "supportedPrimaryKeys": ["01"],
        "supportedQualifiers": {"01": ["10", "21"]},
        "linkTypeDefaultCanBeLinkset": False,
        "supportedLinkType": [{"namespace": GS1_VOC, "prefix": "gs1:", "types": list(LINK_TYPES)}],
        "linksetMediaType": LINKSET_TYPE,
        "serialWithoutGtin": f"{_base()}/u/{{serial}}",
    })  # fmt: skip
