"""Load the standards catalog from YAML (idempotently, keeping provenance) and export it back."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.batches.stages import describe_stage
from app.catalog import versions
from app.catalog.checks import looser_voluntary_limits
from app.catalog.models import BASES, STATUSES, ProductLine, Requirement, Standard
from app.catalog.parameters import parameter_key, split_names
from app.catalog.products import FORM_NAMES, OTHER_FOODS, PRODUCTS
from app.db import db
from app.errors import InvalidInput, NotFound
from app.schemas import Page

log = logging.getLogger(__name__)

REQUIREMENT_KEYS = (
    "parameter", "scope", "product", "forms", "unit", "comparator", "limit", "basis", "grading",
    "temporary_mrl", "not_detected_below", "clause", "verified", "confidence", "source", "method",
)  # fmt: skip
STANDARD_KEYS = (
    "code", "title_zh", "title_en", "level", "mandatory", "status", "status_note", "issued", "effective",
    "replaces", "body", "scope", "applies_to", "kind", "certification_only", "confidence",
    "sources", "notes", "requirements",
)  # fmt: skip
COMPARATORS = ("<=", ">=", "<", ">", "==", "range", "not_detected", "text")
LEVELS = ("national", "industry", "provincial", "municipal", "group", "enterprise")
KINDS = ("product", "safety_limit", "test_method", "traceability", "certification", "production_practice")
_EDITION = re.compile(r"^(?P<base>.+?)-(?P<year>\d{4})$")


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    requirements: int = 0
    repaired: list[str] = field(default_factory=list)
    # Loaded, but worth a reviewer's eye: a voluntary limit looser than a mandatory one.
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def default_catalog_path() -> Path:
    """The project's standards catalog, ``app/catalog/data/catalog.yaml`` (see its README).

    A path beside this module, so it holds in a clone, an editable install and an installed
    package alike (setup.cfg ships it as package data); nothing outside the package is read.
    """
    return Path(__file__).resolve().parent / "data" / "catalog.yaml"


def split_code(code: str) -> tuple[str, str | None]:
    m = _EDITION.match(code)
    return (m["base"], m["year"]) if m else (code, None)


def normalize_level(raw: str) -> str:
    word = raw.split("(")[0].strip().lower()
    if word not in LEVELS:
        raise InvalidInput(f"level {raw!r} is not one of {', '.join(LEVELS)}")
    return word


def derive_kind(item: dict[str, Any], mandatory: bool) -> str:
    if item.get("kind"):
        if item["kind"] not in KINDS:
            raise InvalidInput(f"{item['code']}: kind {item['kind']!r} is not one of {', '.join(KINDS)}")
        return item["kind"]
    if item.get("certification_only"):
        return "certification"
    if mandatory:
        return "safety_limit"
    return "product"


def _repair_requirement(req: dict[str, Any], code: str, report: LoadReport) -> dict[str, Any]:
    """Undo a YAML flow-mapping artifact: an unquoted comma inside ``parameter`` splits the text
    into stray keys with no value. Join them back rather than lose them."""
    stray = [k for k, v in req.items() if k not in REQUIREMENT_KEYS and v is None]
    if not stray:
        return req
    fixed = {k: v for k, v in req.items() if k not in stray}
    fixed["parameter"] = ", ".join([str(req["parameter"]), *[str(k) for k in stray]])
    report.repaired.append(f"{code}: {fixed['parameter']}")
    return fixed


def _limit(value: Any) -> tuple[Decimal | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, bool):
        raise InvalidInput(f"limit {value!r} is not a number")
    if isinstance(value, int | float):
        return Decimal(str(value)), None
    try:
        return Decimal(str(value).strip()), None
    except InvalidOperation:
        return None, str(value)


def _date(value: Any) -> tuple[dt.date | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, dt.date):
        return value, None
    try:
        return dt.date.fromisoformat(str(value)), None
    except ValueError:
        return None, str(value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _standard_fields(item: dict[str, Any]) -> dict[str, Any]:
    code = str(item["code"]).strip()
    base, edition = split_code(code)
    status = item.get("status")
    if status not in STATUSES:
        raise InvalidInput(
            f"{code}: status {status!r} is not one of {', '.join(STATUSES)} (the source's wording goes in status_note)"
        )
    mandatory = bool(item.get("mandatory"))
    issued, issued_note = _date(item.get("issued"))
    effective, effective_note = _date(item.get("effective"))
    extra = {k: v for k, v in item.items() if k not in STANDARD_KEYS}
    if issued_note:
        extra["issued_note"] = issued_note
    return {
        "code": code,
        "base_code": base,
        "edition": edition,
        "title_zh": item["title_zh"],
        "title_en": item.get("title_en"),
        "level": normalize_level(str(item["level"])),
        "level_detail": str(item["level"]),
        "mandatory": mandatory,
        "kind": derive_kind(item, mandatory),
        "status": status,
        "status_note": None if item.get("status_note") is None else str(item["status_note"]),
        "issued": issued,
        "effective": effective,
        "effective_note": effective_note,
        "replaces": [str(c) for c in _as_list(item.get("replaces"))],
        "body": item.get("body"),
        "scope": item.get("scope"),
        "applies_to": [str(p) for p in _as_list(item.get("applies_to"))],
        "certification_only": item.get("certification_only"),
        "confidence": item.get("confidence"),
        "sources": [str(s) for s in _as_list(item.get("sources"))],
        "notes": item.get("notes"),
        "extra": extra,
    }


def _flag(req: dict[str, Any], key: str, where: str) -> bool:
    value = req.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{where}: {key} must be true or false, not {value!r}")
    return value


def _scope(req: dict[str, Any], applies_to: list[str], where: str) -> tuple[str | None, list[str]]:
    """The product and forms a requirement binds, checked against the product lines and their forms.

    In a standard that covers several foods (``all``, or more than one product line) a requirement
    with neither would bind every one of them, so it is refused: the catalog must say which.
    """
    product = req.get("product")
    if product is not None and product not in PRODUCTS:
        raise InvalidInput(f"{where}: product {product!r} is not a product line ({', '.join(PRODUCTS)})")
    forms = req.get("forms") or []
    if not isinstance(forms, list) or not all(isinstance(f, str) for f in forms):
        raise InvalidInput(f"{where}: forms must be a list of form tags, not {forms!r}")
    if len(set(forms)) != len(forms):
        raise InvalidInput(f"{where}: a form is listed twice in {forms}")
    if product is not None:
        allowed = set(PRODUCTS[product].forms)
        whose = f"forms of {product}"
    else:
        lines = list(PRODUCTS) if "all" in applies_to else [p for p in applies_to if p in PRODUCTS]
        allowed = {f for p in lines for f in PRODUCTS[p].forms}
        whose = f"forms of {', '.join(lines) or 'no product line'}"
    for form in forms:
        if form not in FORM_NAMES and form not in OTHER_FOODS:
            raise InvalidInput(
                f"{where}: form {form!r} is not a known form tag ({', '.join([*FORM_NAMES, *OTHER_FOODS])})"
            )
        if form not in allowed and form not in OTHER_FOODS:
            raise InvalidInput(f"{where}: form {form!r} is not one of the {whose} ({', '.join(sorted(allowed))})")
    several = "all" in applies_to or len(applies_to) > 1
    if several and product is None and not forms:
        raise InvalidInput(
            f"{where}: no product or forms given, but the standard covers several foods "
            f"({', '.join(applies_to)}); without a scope it would bind every one of them. "
            "Name the product (and the forms) it binds."
        )
    return product, list(forms)


def _requirement_fields(req: dict[str, Any], position: int, code: str, applies_to: list[str]) -> dict[str, Any]:
    raw = str(req["parameter"]).strip()
    where = f"{code}: requirement {position} ({raw})"
    comparator = str(req.get("comparator") or "").strip()
    if comparator not in COMPARATORS:
        raise InvalidInput(f"{code}: requirement {raw!r} has comparator {comparator!r}; use one of {COMPARATORS}")
    zh, en = split_names(raw)
    limit_value, limit_text = _limit(req.get("limit"))
    verified = req.get("verified")
    product, forms = _scope(req, applies_to, where)
    basis = req.get("basis", "as_is")
    if basis not in BASES:
        raise InvalidInput(f"{where}: basis {basis!r} is not one of {', '.join(BASES)}")
    below, below_text = _limit(req.get("not_detected_below"))
    if below_text is not None:
        raise InvalidInput(f"{where}: not_detected_below must be a number, not {below_text!r}")
    return {
        "position": position,
        "parameter_key": parameter_key(raw),
        "parameter_zh": zh,
        "parameter_en": en,
        "parameter_raw": raw,
        "unit": None if req.get("unit") is None else str(req["unit"]),
        "comparator": comparator,
        "limit_value": limit_value,
        "limit_text": limit_text,
        "scope": req.get("scope"),
        "product_key": product,
        "forms": forms,
        "basis": basis,
        "grading": _flag(req, "grading", where),
        "temporary_mrl": _flag(req, "temporary_mrl", where),
        "not_detected_below": below,
        "clause": None if req.get("clause") is None else str(req["clause"]),
        "method": req.get("method"),
        # Only an explicit true counts as verified; anything else is shown as provisional.
        "verified": verified is True,
        "confidence": req.get("confidence"),
        "source": req.get("source"),
    }


def _same(obj: Any, values: dict[str, Any]) -> bool:
    return all(getattr(obj, k) == v for k, v in values.items())


def load_catalog(data: dict[str, Any]) -> LoadReport:
    """Upsert every standard and requirement; a second load of the same data changes nothing."""
    report = LoadReport()
    items = data.get("standards")
    if not isinstance(items, list):
        raise InvalidInput("the catalog has no 'standards' list")
    existing = {s.code: s for s in db.session.scalars(select(Standard).options(selectinload(Standard.requirements)))}
    seen: set[str] = set()
    parsed = []
    # Parse and check everything before writing anything: a refused catalog changes nothing.
    for item in items:
        values = _standard_fields(item)
        code = values["code"]
        if code in seen:
            raise InvalidInput(f"standard {code} appears twice in the catalog")
        seen.add(code)
        reqs = [
            _requirement_fields(_repair_requirement(dict(r), code, report), i, code, values["applies_to"])
            for i, r in enumerate(item.get("requirements") or [], start=1)
        ]
        parsed.append((values, reqs))
    report.warnings = looser_voluntary_limits(parsed)
    for values, reqs in parsed:
        code = values["code"]
        report.requirements += len(reqs)
        std = existing.get(code)
        if std is None:
            std = Standard(**values)
            std.requirements = [Requirement(**r) for r in reqs]
            db.session.add(std)
            report.created += 1
            continue
        same_reqs = len(std.requirements) == len(reqs) and all(
            _same(old, new) for old, new in zip(std.requirements, reqs, strict=True)
        )
        if _same(std, values) and same_reqs:
            report.unchanged += 1
            continue
        for k, v in values.items():
            setattr(std, k, v)
        if not same_reqs:
            std.requirements.clear()
            db.session.flush()
            std.requirements.extend(Requirement(**r) for r in reqs)
        report.updated += 1
    db.session.flush()
    _link_supersession()
    _sync_products()
    db.session.flush()
    if report.changed:
        # Any edition may have changed: a new catalog version, then subscribers (compliance)
        # re-judge in this transaction, naming it.
        versions.changed(None, f"catalog load: {report.created} created, {report.updated} updated")
    else:
        versions.record("catalog load")  # the first load into a database older than the versions
    return report


def _link_supersession() -> None:
    standards = db.session.scalars(select(Standard)).all()
    successor = {old: s.code for s in standards for old in s.replaces}
    for s in standards:
        if s.superseded_by != successor.get(s.code):
            s.superseded_by = successor.get(s.code)


def _sync_products() -> None:
    by_code = {s.code: s for s in db.session.scalars(select(Standard))}
    for spec in PRODUCTS.values():
        line = db.session.get(ProductLine, spec.key)
        values = {
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "county_zh": spec.county_zh,
            "county_en": spec.county_en,
            "lot_prefix": spec.lot_prefix,
            "stages": list(spec.stages),
            "forms": list(spec.forms),
        }
        if line is None:
            line = ProductLine(key=spec.key, **values)
            db.session.add(line)
        elif not _same(line, values):
            for k, v in values.items():
                setattr(line, k, v)
        wanted = [by_code[c] for c in spec.default_standards if c in by_code and by_code[c].binds]
        if {s.code for s in line.default_standards} != {s.code for s in wanted}:
            line.default_standards = wanted


def load_catalog_file(path: str | Path) -> LoadReport:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} is not a YAML mapping")
    return load_catalog(data)


def get_product(key: str) -> ProductLine:
    line = db.session.get(ProductLine, key)
    if line is None:
        raise NotFound(f"no product line {key!r}; known: {', '.join(PRODUCTS)}")
    return line


def applicable_mandatory(product_key: str) -> list[Standard]:
    """The mandatory national standards that bind every batch of a product (invariant 7).

    Only standards in force: a withdrawn or uncertain one (GB 16565-2003) binds nothing.
    """
    rows = db.session.scalars(select(Standard).where(Standard.mandatory.is_(True)).order_by(Standard.code))
    spec = PRODUCTS.get(product_key)
    not_bound = spec.not_bound if spec else {}
    return [s for s in rows if s.binds and s.applies_to_product(product_key) and s.code not in not_bound]


def product_view(line: ProductLine) -> dict[str, Any]:
    """A product line as the API shows it: stages in order with their fields, default and mandatory standards."""
    return {
        "key": line.key,
        "name_zh": line.name_zh,
        "name_en": line.name_en,
        "county_zh": line.county_zh,
        "county_en": line.county_en,
        "lot_prefix": line.lot_prefix,
        "forms": line.forms,
        "stages": [describe_stage(line.key, s) for s in line.stages],
        "default_standards": line.default_standards,
        "mandatory_standards": applicable_mandatory(line.key),
    }


def list_products() -> Page:
    lines = db.session.scalars(select(ProductLine).order_by(ProductLine.key))
    return Page.whole([product_view(line) for line in lines])


def list_standards(
    *,
    product: str | None = None,
    level: str | None = None,
    kind: str | None = None,
    mandatory: bool | None = None,
    status: str | None = None,
    q: str | None = None,
) -> Page:
    """The catalog by product, level, kind, mandatory, status and a text query on code and titles."""
    query = select(Standard).order_by(Standard.code)
    if level is not None:
        query = query.where(Standard.level == level)
    if kind is not None:
        query = query.where(Standard.kind == kind)
    if mandatory is not None:
        query = query.where(Standard.mandatory.is_(mandatory))
    if status is not None:
        query = query.where(Standard.status == status)
    if q is not None:
        # Escape LIKE wildcards so a search for "50%" means what it says.
        text = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%"
        query = query.where(
            or_(
                Standard.code.ilike(pattern, escape="\\"),
                Standard.title_zh.ilike(pattern, escape="\\"),
                Standard.title_en.ilike(pattern, escape="\\"),
            )
        )
    rows = list(db.session.scalars(query))
    if product is not None:
        # applies_to is a short JSON list; filtering in Python keeps one query for both databases.
        rows = [s for s in rows if s.applies_to_product(product)]
    return Page.whole(rows)


def get_standard(standard_id: int) -> Standard:
    """One standard with its requirements."""
    std = db.session.scalar(
        select(Standard).where(Standard.id == standard_id).options(selectinload(Standard.requirements))
    )
    if std is None:
        raise NotFound(f"no standard with id {standard_id}")
    return std
