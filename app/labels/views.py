"""The labels API: the batch's QR code; label runs, their files, voiding, PIN verification and flags.

Label runs answer 202 with their job (``GET /api/v1/jobs/{id}``). The print files and the units
CSV hold the PINs, so only the organization that made the run downloads them.

The batch's QR code is PNG or SVG: for its readers under /api/v1, and for anyone by public code.

The code encodes exactly the batch's ``public_url`` (PUBLIC_BASE_URL + /t/{public_code}), never
anything taken from the request's Host header. A rendering never changes for a given URL and
size, so responses carry a strong ETag and a conditional request is answered with 304 before
anything is drawn.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Response, current_app, request
from flask_babel import gettext as _
from marshmallow import ValidationError

from app import access, clock
from app.api import Blueprint
from app.auth import actor, require_roles
from app.batches import service as batches
from app.errors import InvalidInput, NotFound
from app.labels import flags, qr, runs, scans, sheets
from app.labels.models import LabelRun, Unit
from app.labels.schemas import (
    FlagArgs,
    FlagList,
    LabelRunCreate,
    LabelRunOut,
    QrArgs,
    UnitOut,
    VerifyIn,
    VerifyOut,
    VoidIn,
    VoidRangeIn,
    VoidRangeOut,
)
from app.schemas import ErrorOut, Page

blp = Blueprint("labels", __name__, url_prefix="/api/v1", description="QR codes for batch labels")
bp = PageBlueprint("labels_public", __name__)

# The images are the same for every reader; a day is short enough to pick up a changed base URL.
MAX_AGE = 86400
_FORMATS = {"png": ("image/png", qr.render_png), "svg": ("image/svg+xml", qr.render_svg)}
_BINARY = {"type": "string", "format": "binary"}


def qr_response(kind: str, url: str, size: int, *, public: bool) -> Response:
    """The QR image for ``url``, or 304 when the client already holds this exact rendering."""
    mimetype, render = _FORMATS[kind]
    tag = qr.etag(kind, url, size)
    cache_control = f"{'public' if public else 'private'}, max-age={MAX_AGE}"
    if request.if_none_match.contains(tag):
        response = Response(status=304)
    else:
        try:
            body = render(url, size)
        except qr.SizeTooSmall as exc:
            raise InvalidInput.field("size", str(exc), location="query") from exc
        response = Response(body, mimetype=mimetype)
    response.set_etag(tag)
    response.headers["Cache-Control"] = cache_control
    return response


def _batch_qr(kind: str, batch_id: int, size: int) -> Response:
    # The batches' read rule, so a batch one may not read is a 404 here too.
    batch = access.get_readable_batch(actor(), batch_id)
    return qr_response(kind, batches.public_url(current_app.config["PUBLIC_BASE_URL"], batch), size, public=False)


@blp.route("/batches/<id:batch_id>/qr.png")
@blp.arguments(QrArgs, location="query")
@blp.response(200, _BINARY, content_type="image/png", description="The QR code, encoding the batch's public_url.")
@blp.alt_response(304, description="Not modified: the If-None-Match ETag is current.")
@blp.doc(security=[{"bearerAuth": []}])
@require_roles()
def batch_qr_png(args: dict[str, Any], batch_id: int) -> Response:
    """The batch's QR code as a PNG ``size`` pixels wide (error correction M, quiet zone 4)."""
    return _batch_qr("png", batch_id, args["size"])


@blp.route("/batches/<id:batch_id>/qr.svg")
@blp.arguments(QrArgs, location="query")
@blp.response(200, _BINARY, content_type="image/svg+xml", description="The QR code, encoding the batch's public_url.")
@blp.alt_response(304, description="Not modified: the If-None-Match ETag is current.")
@blp.doc(security=[{"bearerAuth": []}])
@require_roles()
def batch_qr_svg(args: dict[str, Any], batch_id: int) -> Response:
    """The batch's QR code as an SVG shown ``size`` pixels wide (error correction M, quiet zone 4)."""
    return _batch_qr("svg", batch_id, args["size"])


@bp.get("/t/<public_code>/qr.png")
def public_qr_png(public_code: str) -> Response:
    """The QR code of a batch by its public code: it only encodes the public URL, so anyone may fetch it."""
    try:
        size = QrArgs().load({"size": request.args["size"]} if "size" in request.args else {})["size"]
    except ValidationError as exc:
        raise InvalidInput("size: " + "; ".join(exc.messages_dict["size"]), {"query": exc.messages_dict}) from exc
    batch = batches.get_batch_by_public_code(public_code)
    return qr_response("png", batches.public_url(current_app.config["PUBLIC_BASE_URL"], batch), size, public=True)


# --- label runs, units, verification and flags ----------------------------------------------------

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _run_out(run: LabelRun) -> dict[str, Any]:
    base = f"/api/v1/label-runs/{run.id}"
    return {
        "id": run.id, "batch_id": run.batch_id, "count": run.count, "template": run.template,
        "created_at": run.created_at, "job": run.job,
        "files": {"print": f"{base}.{sheets.FILE_KIND[run.template]}", "units": f"{base}/units.csv"},
    }  # fmt: skip


@blp.route("/batches/<id:batch_id>/label-runs", methods=["POST"])
@blp.arguments(LabelRunCreate)
@blp.response(202, LabelRunOut, description="The run and its job; poll the job for its progress.")
@blp.alt_response(403, schema=ErrorOut, description="Only the batch's custodian or producer makes its labels.")
@blp.doc(security=BEARER)
@require_roles()
def create_label_run(body: dict[str, Any], batch_id: int) -> dict[str, Any]:
    """Make ``count`` serialized units under the batch, and their labels with ``template``, as a background job."""
    return _run_out(runs.create_run(actor(), batch_id, body["count"], body["template"]))


def _file(run_id: int, kind: str, mimetype: str) -> Response:
    run, content = runs.run_file(actor(), run_id, kind)
    name = f"labels-{run.batch.lot_code}-run{run.id}.{kind if kind != 'csv' else 'units.csv'}"
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # The PINs are in these files: never kept by a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _file_route(suffix: str, kind: str, mimetype: str, summary: str) -> None:
    def view(run_id: int) -> Response:
        return _file(run_id, kind, mimetype)

    view.__name__ = f"label_run_{kind}"
    view.__doc__ = summary
    decorated = require_roles()(view)
    decorated = blp.doc(security=BEARER)(decorated)
    decorated = blp.alt_response(409, schema=ErrorOut, description="The run's job has not finished.")(decorated)
    decorated = blp.response(200, _BINARY, content_type=mimetype)(decorated)
    blp.route(f"/label-runs/<id:run_id>{suffix}", methods=["GET"])(decorated)


_file_route(".pdf", "pdf", "application/pdf",
            "The run's A4 label sheets (a4_24 or a4_40 runs), the PIN under each scratch-off field.")  # fmt: skip
_file_route(".zpl", "zpl", "text/plain", "The run's ZPL II job for Zebra thermal printers (zpl runs).")
_file_route(".tspl", "tspl", "text/plain", "The run's TSPL job for TSC thermal printers (tspl runs).")
_file_route("/units.csv", "csv", "text/csv",
            "For the printing house: seq, serial, URI and PIN of every unit of the run.")  # fmt: skip


def _unit_out(unit: Unit) -> dict[str, Any]:
    return {
        "serial": unit.serial, "batch_id": unit.batch_id, "run_id": unit.run_id, "seq": unit.seq,
        "uri": runs.unit_uri(unit.run, unit.serial), "voided_at": unit.voided_at, "void_reason": unit.void_reason,
        "verified_at": unit.verified_at,
    }  # fmt: skip


@blp.route("/units/<string:serial>/void", methods=["POST"])
@blp.arguments(VoidIn)
@blp.response(200, UnitOut)
@blp.doc(security=BEARER)
@require_roles()
def void_unit(body: dict[str, Any], serial: str) -> dict[str, Any]:
    """Void one unit (misprint, damaged label): its page then answers 410, and any scan of it raises a flag."""
    return _unit_out(runs.void_unit(actor(), serial, body["reason"], clock.now()))


@blp.route("/label-runs/<id:run_id>/void", methods=["POST"])
@blp.arguments(VoidRangeIn)
@blp.response(200, VoidRangeOut)
@blp.doc(security=BEARER)
@require_roles()
def void_range(body: dict[str, Any], run_id: int) -> dict[str, int]:
    """Void units ``first`` to ``last`` of a run, in print order (a damaged stretch of a roll)."""
    return {"voided": runs.void_range(actor(), run_id, body["first"], body["last"], body["reason"], clock.now())}


@blp.route("/units/<string:serial>/verify", methods=["POST"])
@blp.arguments(VerifyIn)
@blp.response(200, VerifyOut)
@blp.alt_response(429, schema=ErrorOut, description="Too many wrong PINs for this unit or from this network.")
def verify_unit(body: dict[str, Any], serial: str) -> dict[str, Any]:
    """Check the PIN under a unit's scratch-off field (no login). The first correct PIN verifies the unit."""
    return verification_out(check_pin(serial, body["pin"]))


def check_pin(serial: str, pin: str) -> scans.Verification:
    unit = runs.get_unit(serial)
    if unit.voided_at is not None:
        raise NotFound(_("此码已作废。"))
    client = scans.client_of(request.remote_addr, request.headers.get("User-Agent", ""))
    return scans.verify_pin(unit, pin, client, clock.now())


def verification_out(result: scans.Verification) -> dict[str, Any]:
    if not result.ok:
        message = _("验证码不正确。")
    elif result.first:
        message = _("验证成功：这是正品，且是第一次验证。")
    else:
        when = clock.to_china(result.first_verified_at).strftime("%Y-%m-%d %H:%M") if result.first_verified_at else ""
        message = _("该码已于 %(when)s（%(city)s）首次验证，请注意是否为仿冒。", when=when,
                    city=result.first_city or _("城市不详"))  # fmt: skip
    return {"genuine": result.ok, "first": result.first, "first_verified_at": result.first_verified_at,
            "first_city": result.first_city, "verifications": result.verifications, "message": message}  # fmt: skip


@blp.route("/label-alerts", methods=["GET"])
@blp.arguments(FlagArgs, location="query")
@blp.response(200, FlagList)
@blp.doc(security=BEARER)
@require_roles()
def label_alerts(args: dict[str, Any]) -> Page:
    """Units the anomaly rules flagged, on the batches the caller may read, newest first; ``batch`` filters."""
    return Page.whole(flags.flags_for(actor(), args.get("batch")))
