"""Pages anyone may open without login: the index, the consumer page and its JSON twin.

``/t/{public_code}`` is what a label's QR code opens. ``/t/{public_code}/ping`` is the
benchmark's floor (scripts/bench.py): one indexed lookup by public code and a tiny template,
the least any page behind a label can cost, to compare the consumer page against.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, current_app, make_response, render_template, request
from flask_babel import get_locale
from werkzeug.wrappers import Response as BaseResponse

from app.api import Blueprint as ApiBlueprint
from app.errors import NotFound
from app.public import consumer
from app.public.cache import page_cache
from app.public.facts import origin_county
from app.public.schemas import PublicBatchOut, PublicLangArgs
from app.public.stamp import stamp

bp = Blueprint("public", __name__, template_folder="templates")
blp = ApiBlueprint(
    "public_api", __name__, url_prefix="/api/v1", description="What a consumer sees behind a label (no login)"
)

INDEX_PER_PAGE = 24


def page_lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def _localized(response: Response) -> Response:
    # The same URL answers in Chinese or English depending on Accept-Language.
    response.vary.add("Accept-Language")
    return response


@bp.get("/t/<public_code>")
def consumer_page(public_code: str) -> BaseResponse:
    """The consumer page: product, origin, producer, journey, standards, chain check, recall."""
    lang = page_lang()
    found = stamp(public_code)
    if found is None:
        return _localized(make_response(render_template("public/not_found.html"), 404))
    cache = page_cache()
    day = consumer.today()
    # The day is in the key: certifications are listed as valid on the day the page is read.
    key = ("page", public_code, lang, found.version, day)
    cached = cache.get(key)
    if cached is None:
        batch = consumer.load_batch(found.batch_id)
        if batch is None:
            return _localized(make_response(render_template("public/not_found.html"), 404))
        view = consumer.consumer_view(batch, _base_url(), lang, day)
        body = render_template("public/batch.html", v=view).encode()
        cached = (body, hashlib.sha256(body).hexdigest()[:32])
        cache.put(key, cached)
    body, etag = cached
    response = _localized(Response(body, mimetype="text/html"))
    # Revalidate every time (a recall must show at once); an unchanged page costs a 304.
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(etag)
    return response.make_conditional(request)


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


@bp.get("/t/<public_code>/ping")
def ping(public_code: str) -> Response:
    """Benchmark floor: one indexed SELECT by public code and a tiny template."""
    row = consumer.ping_row(public_code)
    if row is None:
        return make_response(render_template("public/ping.html", lot_code=None, status=None), 404)
    return make_response(render_template("public/ping.html", lot_code=row.lot_code, status=row.status))


def index() -> Response:
    """The batches with their QR codes and links to their consumer pages (not in production)."""
    listed = current_app.config.get("APP_ENV") != "production"
    # Bounded: a page number past the last one is merely empty, never a database overflow.
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    # One more than a page, to know whether there is a next one.
    batches = consumer.index_batches(page, INDEX_PER_PAGE + 1) if listed else []
    lang = page_lang()
    cards = [
        {
            "product": b.product.name_en if lang == "en" else b.product.name_zh,
            "lot_code": b.lot_code,
            "county": origin_county(b, lang),
            "producer": consumer.org_name(b.producer, lang),
            "recalled": b.status == "recalled",
            "public_code": b.public_code,
        }
        for b in batches[:INDEX_PER_PAGE]
    ]
    html = render_template(
        "public/index.html",
        cards=cards,
        listed=listed,
        page=page,
        more=len(batches) > INDEX_PER_PAGE,
        # A language chosen with ?lang= follows the visitor to the pages linked from here.
        lang_arg=request.args.get("lang") if request.args.get("lang") in ("zh", "en") else None,
    )
    return _localized(make_response(html))


# The index is the site's root and other pages link to it as ``url_for("index")``.
bp.record_once(lambda state: state.app.add_url_rule("/", endpoint="index", view_func=index))


blp.after_request(_localized)


@blp.route("/public/<string:public_code>")
@blp.arguments(PublicLangArgs, location="query")
@blp.response(200, PublicBatchOut)
def public_batch(args: dict[str, Any], public_code: str) -> Any:
    """The consumer page's facts as JSON, in the language of ``?lang=`` or Accept-Language.

    No login. Shows public fields only: no phone, ID number, user name, price or internal id.
    """
    view = consumer.cached_view(public_code, _base_url(), page_lang())
    if view is None:
        raise NotFound("No batch has this public code; check the code on the label.")
    # In the order the schema declares, the verdict first (the API's other answers sort their keys).
    body = current_app.json.dumps(PublicBatchOut().dump(view), sort_keys=False)
    return Response(body, mimetype="application/json")
