"""The batch's QR code as PNG or SVG: for its readers under /api/v1, and for anyone by public code.

The code encodes exactly the batch's ``public_url`` (PUBLIC_BASE_URL + /t/{public_code}), never
anything taken from the request's Host header. A rendering never changes for a given URL and
size, so responses carry a strong ETag and a conditional request is answered with 304 before
anything is drawn.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Response, current_app, request
from marshmallow import ValidationError

from app import access
from app.api import Blueprint
from app.auth import actor, require_roles
from app.batches import service as batches
from app.errors import InvalidInput
from app.labels import qr
from app.labels.schemas import QrArgs

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
