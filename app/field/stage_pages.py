"""Record a stage (the form generated from its definition) and correct one field of a recorded stage."""

import datetime as dt
from typing import Any

from flask import redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound as PageNotFound

from app.catalog.products import PRODUCTS
from app.db import utcnow
from app.errors import Forbidden
from app.field import clock, forms, service
from app.field.pages import (
    _english,
    _page_batch,
    bp,
    field_actor,
    field_required,
    field_url,
    new_key,
    quantity_text,
    submit,
)
from app.sync import handlers


def _warning_rows(breaches: list[Any]) -> list[dict[str, Any]]:
    """名称, 施药日期 (China time), 还差几天, for each pesticide whose interval the harvest would break."""
    return [
        {
            "name": b.use.name,
            "applied_on": clock.local(b.use.applied_at).strftime("%Y-%m-%d"),
            "phi_days": b.use.phi_days,
            "days_short": b.days_short,
        }
        for b in breaches
    ]


def _stage_labels(batch: Any, stage: str) -> dict[str, str]:
    """Each input's name on the stage form (list rows numbered), to name a field in an error."""
    labels = {"occurred_at": _("发生时间"), "site": _("场所"), "_form": ""}
    for ff in forms.stage_form(batch.product_key, stage, _english()):
        labels[ff.name] = ff.label
        for sub in ff.rows:
            for i in range(forms.MAX_LIST_ROWS):
                labels[f"{ff.name}-{i}-{sub.name}"] = f"{ff.label} {i + 1}：{sub.label}"
    return labels


def _stage_page(
    batch: Any,
    stage: str,
    values: Any,
    errors: dict[str, str],
    status: int = 200,
    warnings: list[dict[str, Any]] | None = None,
) -> tuple[str, int]:
    form_fields = forms.stage_form(batch.product_key, stage, _english())
    labels = _stage_labels(batch, stage)
    sites = [s for s in service.sites_for(field_actor())]
    page = render_template(
        "field/stage.html",
        batch=batch,
        product=PRODUCTS[batch.product_key],
        stage=stage,
        form_fields=form_fields,
        values=values,
        errors=errors,
        labels=labels,
        sites=sites,
        list_rows=forms.LIST_ROWS,
        warnings=warnings or [],
        max_list_rows=forms.MAX_LIST_ROWS,
    )
    return page, status


@bp.route("/batches/<id:batch_id>/stages/<stage>", methods=["GET", "POST"])
@field_required
def record_stage(batch_id: int, stage: str) -> Any:
    """Record a stage: the form generated from the stage definition, times in China time."""
    batch = _page_batch(batch_id)
    if stage not in PRODUCTS[batch.product_key].stages:
        raise PageNotFound()
    who = field_actor()
    if who.org.id != batch.custodian_org_id:
        raise Forbidden(_("只有批次的持有方可以记录环节。"))
    if request.method == "GET":
        values = {
            "occurred_at": clock.now_local_text(utcnow()),
            # A client-made id for this one submission: a double tap or a retry stores it once.
            "idempotency_key": new_key(),
        }
        if batch.site_id:
            values["site"] = str(batch.site_id)
        return _stage_page(batch, stage, values, {})
    grow = request.form.get("add_row", "")
    if grow:
        # One more blank row for a list (another pesticide, another step): nothing is saved yet.
        values = request.form.to_dict()
        values[f"{grow}-rows"] = str(forms.row_count(values.get(f"{grow}-rows", "")) + 1)
        return _stage_page(batch, stage, values, {})
    try:
        submit("stage", batch=batch.id, stage=stage)
    except service.NeedsConfirmation as warning:
        # Nothing is stored until the farmer confirms with the same form (and the same key).
        return _stage_page(batch, stage, request.form, {}, warnings=_warning_rows(warning.breaches))
    except service.FormRefused as refused:
        return _stage_page(batch, stage, request.form, refused.errors, 422)
    return redirect(field_url("field.batch_page", batch_id=batch.id, recorded=1))


# --- correcting one field -------------------------------------------------------------------------


def _correctable(batch: Any, seq: int) -> tuple[Any, list[forms.FormField]]:
    """The stage entry to correct and its single-value fields (a list such as planting inputs is not offered)."""
    entry = service.stage_entry(batch, seq)
    if entry is None:
        raise PageNotFound()
    if field_actor().org.id != batch.custodian_org_id:
        raise Forbidden(_("只有批次的持有方可以更正记录。"))
    return entry, handlers.correctable_fields(batch, entry, _english())


def _shown_value(batch: Any, entry: Any, ff: forms.FormField) -> str:
    value = entry.data.get(ff.name)
    if value in (None, ""):
        return "—"
    if ff.widget == "quantity":
        return quantity_text(value, entry.data.get("unit", ""))
    if ff.widget == "datetime":
        return clock.local(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
    return forms.choice_label(str(value))


@bp.route(
    "/batches/<id:batch_id>/events/<id:seq>/correct",
    defaults={"field_name": None},
    methods=["GET"],
)
@bp.route(
    "/batches/<id:batch_id>/events/<id:seq>/correct/<field_name>",
    methods=["GET", "POST"],
)
@field_required
def correct(batch_id: int, seq: int, field_name: str | None) -> Any:
    """Correct one field of a recorded stage with a reason; the record keeps the original and the correction."""
    batch = _page_batch(batch_id)
    entry, fields = _correctable(batch, seq)
    chosen = next((f for f in fields if f.name == field_name), None)
    if field_name is not None and chosen is None:
        raise PageNotFound()
    values: Any = {"idempotency_key": new_key()}
    errors: dict[str, str] = {}
    status = 200
    if chosen is not None and request.method == "POST":
        try:
            submit("correction", batch=batch.id, seq=entry.seq, field=chosen.name)
        except service.FormRefused as refused:
            values, errors, status = request.form, refused.errors, 422
        else:
            return redirect(field_url("field.batch_page", batch_id=batch.id, corrected=1))
    elif chosen is not None:
        current = entry.data.get(chosen.name)
        if chosen.widget == "datetime" and current:
            current = clock.local(dt.datetime.fromisoformat(current)).strftime(clock.LOCAL_FORMAT)
        values[chosen.name] = "" if current is None else str(current)
    labels = {f.name: f.label for f in fields} | {"reason": _("更正原因"), "_form": ""}
    page = render_template(
        "field/correct.html",
        batch=batch,
        local=clock.local,
        entry=entry,
        fields=fields,
        chosen=chosen,
        shown=lambda ff: _shown_value(batch, entry, ff),
        reasons=service.CORRECTION_REASONS,
        values=values,
        errors=errors,
        labels=labels,
    )
    return page, status
