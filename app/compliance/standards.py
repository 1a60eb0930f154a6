"""Standards a batch is held to: parameter keys, declared standards, editions, enterprise standards.

A batch binds the mandatory floor and its product's defaults at creation; its custodian or producer
may declare more. An organization may register its own enterprise standard (Q/...), never looser
than a mandatory limit for the same parameter and product.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access, clock
from app.auth import Actor
from app.batches import service as batches
from app.batches import signals as batch_signals
from app.batches.models import Batch, BatchStandard
from app.batches.vocabulary import EXECUTIVE_STANDARD
from app.catalog import versions as catalog_versions
from app.catalog.models import Requirement, Standard
from app.catalog.parameters import KEYS_BY_ZH, known_keys
from app.catalog.products import PRODUCTS
from app.catalog.service import applicable_mandatory, split_code
from app.compliance import rules, timing
from app.db import db, utcnow
from app.errors import Conflict, Forbidden, InvalidInput
from app.orgs.models import Organization

_PESTICIDE_KEY = re.compile(r"^pesticide\.[a-z][a-z0-9_]{0,48}$")


def nested_error(path: list[str | int], reason: str) -> InvalidInput:
    """A 422 naming a nested field the way marshmallow does: {"results": {"1": {"unit": [...]}}}."""
    errors: Any = [reason]
    for part in reversed(path):
        errors = {str(part): errors}
    dotted = ".".join(str(p) for p in path)
    return InvalidInput(f"{dotted}: {reason}", {"json": errors})


def catalog_parameter_keys() -> set[str]:
    return set(db.session.scalars(select(Requirement.parameter_key).distinct()))


def is_known_parameter(key: str, catalog_keys: set[str] | None = None) -> bool:
    if key in known_keys() or _PESTICIDE_KEY.match(key):
        return True
    return key in (catalog_keys if catalog_keys is not None else catalog_parameter_keys())


def parameter_names(key: str) -> tuple[str, str | None]:
    """Chinese and English names of a parameter key, from the catalog where it has them."""
    row = db.session.execute(
        select(Requirement.parameter_zh, Requirement.parameter_en)
        .where(Requirement.parameter_key == key)
        .order_by(Requirement.id)
        .limit(1)
    ).first()
    if row is not None:
        return row[0], row[1]
    zh = min((name for name, k in KEYS_BY_ZH.items() if k == key), key=len, default=None)
    if zh:
        return zh, None
    bare = key.removeprefix("pesticide.")
    return bare, bare.replace("_", " ")


def declare_standard(
    actor: Actor,
    batch_id: int,
    standard_id: int,
    now: dt.datetime | None = None,
    *,
    executive: bool = False,
    filing_no: str | None = None,
) -> BatchStandard:
    """The custodian or producer declares a further standard its batch is held to.

    ``executive``: the standard is the batch's 执行标准 (the product standard on its label). A batch
    has one; declaring another replaces it. Either way the declaration is a record in the batch's
    chain. A Q/ enterprise standard as 执行标准 needs its 备案号 (``filing_no``, or the one it
    was registered with).
    """
    now = now or utcnow()
    # A batch the caller may not read is missing to it (404); one it reads but neither holds nor
    # produced is refused (403), and may then be named.
    batch = access.get_readable_batch(actor, batch_id)
    if not access.can_declare_standard(actor, batch):
        raise Forbidden(f"Only the custodian or the producer of batch {batch.lot_code} may declare its standards.")
    std = db.session.get(Standard, standard_id)
    if std is None:
        raise InvalidInput.field("standard", f"no standard with id {standard_id}")
    if not std.applies_to_product(batch.product_key):
        raise InvalidInput.field(
            "standard", f"{std.code} does not apply to {PRODUCTS[batch.product_key].name_en} ({batch.product_key})"
        )
    if not access.can_bind_standard(actor, std):
        raise InvalidInput.field("standard", f"{std.code} is another organization's enterprise standard")
    if not std.binds:
        raise InvalidInput.field(
            "standard", f"{std.code} is {std.status.replace('_', ' ')} in the catalog and binds no batch"
        )
    if executive:
        return _declare_executive(actor, batch, std, (filing_no or "").strip() or None, now)
    offered = db.session.get(BatchStandard, (batch.id, std.id))
    if offered is not None and offered.source == "default":
        # A product default was a suggestion; declaring it makes it bind.
        offered.source, offered.bound_at = "declared", now
        db.session.flush()
        batch_signals.standards_bound.send(batch_signals.sender(), batch=batch, actor=actor, now=now)
        return offered
    if offered is not None:
        raise Conflict(
            f"standard: batch {batch.lot_code} is already bound to {std.code}",
            {"json": {"standard": ["already bound to this batch"]}},
        )
    bound = BatchStandard(batch=batch, standard=std, source="declared", bound_at=now)
    db.session.add(bound)
    db.session.flush()
    # The batch is re-judged by the new standard in this transaction (compliance/verdicts.py).
    batch_signals.standards_bound.send(batch_signals.sender(), batch=batch, actor=actor, now=now)
    return bound


# A 备案号 as the enterprise standards' public service platform gives them: letters, digits and
# the usual separators, no spaces.
_FILING_NO = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff()（）/._-]{3,59}$")


def _declare_executive(
    actor: Actor, batch: Batch, std: Standard, filing_no: str | None, now: dt.datetime
) -> BatchStandard:
    """Bind ``std`` as the batch's 执行标准, replacing the one before, and chain the declaration."""
    if std.code.startswith("Q/"):
        filing_no = filing_no or (std.extra or {}).get("filing_no")
        if not filing_no:
            raise InvalidInput.field("filing_no", f"{std.code} is an enterprise standard: give its 备案号")
    if filing_no is not None and not _FILING_NO.match(filing_no):
        raise InvalidInput.field("filing_no", "4-60 letters, digits, '/', '.', '-' or '_'")
    locked = batches.lock_batch(batch.id)
    bound = {
        bs.standard_id: bs
        for bs in db.session.scalars(select(BatchStandard).where(BatchStandard.batch_id == locked.id))
    }
    previous = next((bs for bs in bound.values() if bs.source == "executive"), None)
    if previous is not None and previous.standard_id == std.id:
        raise Conflict(
            f"standard: {std.code} is already the 执行标准 of batch {locked.lot_code}",
            {"json": {"standard": ["already this batch's executive standard"]}},
        )
    replaced = previous.standard.code if previous is not None else None
    if previous is not None:
        # The one it replaces goes back to what it was before it was declared, if anything.
        floor = {s.id for s in applicable_mandatory(locked.product_key)}
        defaults = {s.id for s in locked.product.default_standards}
        if previous.standard_id in floor:
            previous.source = "mandatory"
        elif previous.standard_id in defaults:
            previous.source = "default"
        else:
            db.session.delete(previous)
    row = bound.get(std.id)
    if row is None:
        row = BatchStandard(batch=locked, standard=std, source="executive", bound_at=now)
        db.session.add(row)
    else:
        row.source, row.bound_at = "executive", now
    db.session.flush()
    record = {"standard": std.code, "filing_no": filing_no, "replaces": replaced}
    batches.append_system_event(locked, actor, EXECUTIVE_STANDARD, record, now=now)
    batch_signals.standards_bound.send(batch_signals.sender(), batch=locked, actor=actor, now=now)
    return row


def editions_of(standards: list[Standard]) -> list[timing.Edition]:
    """The standards as editions to choose from, each with when its named successor took over."""
    successors = {s.superseded_by for s in standards if s.superseded_by}
    effective = dict(
        db.session.execute(select(Standard.code, Standard.effective).where(Standard.code.in_(successors))).all()
    ) if successors else {}  # fmt: skip
    return [
        timing.Edition(
            s.id,
            s.code,
            s.base_code,
            s.edition,
            s.effective,
            superseded_by=s.superseded_by,
            superseded_on=effective.get(s.superseded_by) if s.superseded_by else None,
        )
        for s in standards
    ]


def _mandatory_floor(product: str, parameter: str, on: dt.date) -> list[tuple[Standard, Requirement]]:
    """The mandatory limits on ``parameter`` for ``product``, in the editions in force on ``on``."""
    standards = [
        s
        for s in db.session.scalars(
            select(Standard).where(Standard.mandatory.is_(True)).options(selectinload(Standard.requirements))
        )
        if s.applies_to_product(product) and s.code not in PRODUCTS[product].not_bound
    ]
    by_id = {s.id: s for s in standards}
    chosen = timing.choose_editions(editions_of(standards), on)
    floor = []
    for choice in chosen:
        if choice.chosen is None:
            continue
        std = by_id[choice.chosen.id]
        for req in std.requirements:
            if req.parameter_key == parameter and timing.requirement_applies(
                req.scoped_product, std.applies_to, product
            ):
                floor.append((std, req))
    return floor


def as_limit(std: Standard, req: Requirement, binding: str | None = None) -> rules.Limit:
    return rules.Limit(
        requirement_id=req.id,
        standard=std.code,
        edition=std.edition,
        clause=req.clause,
        parameter=req.parameter_key,
        comparator=req.comparator,
        limit_value=req.limit_value,
        limit_text=req.limit_text,
        unit=req.unit,
        provisional=req.provisional,
        mandatory=std.mandatory,
        binding=binding,
        parameter_zh=req.parameter_zh,
        parameter_en=req.parameter_en,
        basis=req.basis or "as_is",
        grading=bool(req.grading),
        temporary_mrl=bool(req.temporary_mrl),
        not_detected_below=req.not_detected_below,
    )


def register_standard(
    actor: Actor,
    *,
    code: str,
    title_zh: str,
    products: list[str],
    requirements: list[dict[str, Any]],
    owner_org_id: int,
    level: str = "enterprise",
    title_en: str | None = None,
    effective: dt.date | None = None,
    filing_no: str | None = None,
    now: dt.datetime | None = None,
) -> Standard:
    """An organization registers its own enterprise standard (Q/...).

    Refused when any limit is looser than a mandatory limit on the same parameter and product
    (Standardization Law: a recommended or enterprise standard may not fall below a mandatory one).
    """
    now = now or utcnow()
    code = code.strip()
    if filing_no is not None and filing_no.strip() and not _FILING_NO.match(filing_no.strip()):
        raise InvalidInput.field("filing_no", "4-60 letters, digits, '/', '.', '-' or '_'")
    if level != "enterprise":
        raise InvalidInput.field("level", "an organization registers enterprise standards only")
    if not code.startswith("Q/") or len(code) < 4:
        raise InvalidInput.field("code", "an enterprise standard's code starts with 'Q/' (e.g. Q/XNYP 0001 S-2026)")
    owner = db.session.get(Organization, owner_org_id)
    if owner is None:
        raise InvalidInput.field("owner_org_id", f"no organization with id {owner_org_id}")
    if not access.can_register_standard(actor, owner):
        raise Forbidden("An organization registers its own standards only (admins may register for any).")
    if len(set(products)) != len(products):
        raise InvalidInput.field("products", "a product is listed twice")
    catalog_keys = catalog_parameter_keys()
    today = clock.china_date(now)
    prepared = []
    for n, req in enumerate(requirements):
        parameter = req["parameter"].strip()
        if not is_known_parameter(parameter, catalog_keys):
            raise nested_error(
                ["requirements", n, "parameter"],
                f"{parameter!r} is not a known parameter key (see the catalog, e.g. 'lead', 'fluoride', "
                "or 'pesticide.<name>')",
            )
        comparator = req["comparator"]
        limit = req.get("limit")
        if comparator != "not_detected" and limit is None:
            raise nested_error(["requirements", n, "limit"], f"a {comparator} requirement needs a numeric limit")
        unit = rules.canonical_unit(req["unit"])
        for product in products:
            for std, floor_req in _mandatory_floor(product, parameter, today):
                floor = as_limit(std, floor_req)
                try:
                    looser = rules.looser_than(comparator, limit, unit, floor)
                except rules.UnitError:
                    raise nested_error(
                        ["requirements", n, "unit"],
                        f"{unit!r} cannot be compared with {floor_req.unit!r}, the unit of {parameter} in "
                        f"{std.code} clause {floor_req.clause or '-'}",
                    ) from None
                if looser:
                    raise nested_error(
                        ["requirements", n, "limit"],
                        f"{parameter} {comparator} {rules.format_decimal(limit)} {unit} is looser than the mandatory "
                        f"{std.code} clause {floor_req.clause or '-'} ({floor_req.comparator} "
                        f"{rules.format_decimal(floor_req.limit_value)} {floor_req.unit} for {product})",
                    )
        zh, en = parameter_names(parameter)
        prepared.append(
            Requirement(
                position=n + 1,
                parameter_key=parameter,
                parameter_zh=zh,
                parameter_en=en,
                parameter_raw=f"{zh} {en}" if en else zh,
                unit=unit,
                comparator=comparator,
                limit_value=limit,
                limit_text=None,
                scope=None,
                product_key=None,
                clause=req.get("clause"),
                method=req.get("method"),
                # The owner's own declaration is the source of its limits.
                verified=True,
                confidence=None,
                source=f"declared by {owner.code}",
            )
        )
    if db.session.scalar(select(Standard.id).where(Standard.code == code)):
        raise Conflict(f"code: a standard {code!r} exists", {"json": {"code": ["already exists"]}})
    base, edition = split_code(code)
    std = Standard(
        code=code,
        base_code=base,
        edition=edition,
        title_zh=title_zh,
        title_en=title_en,
        level="enterprise",
        level_detail="enterprise",
        mandatory=False,
        kind="product",
        status="in_force",
        issued=today,
        effective=effective,
        effective_note=None,
        replaces=[],
        superseded_by=None,
        body=owner.name,
        scope=None,
        applies_to=list(products),
        certification_only=None,
        confidence=None,
        sources=[],
        notes=None,
        extra={
            "registered_by": actor.user.username,
            "registered_at": now.isoformat(),
            # 备案号: where the enterprise standard was filed (企业标准信息公共服务平台).
            **({"filing_no": filing_no.strip()} if filing_no and filing_no.strip() else {}),
        },
        owner_org_id=owner.id,
    )
    std.requirements = prepared
    db.session.add(std)
    db.session.flush()
    # A new edition of a standard batches are bound to competes for their dates: re-judge them.
    catalog_versions.changed({std.base_code}, f"enterprise standard {std.code} registered", now)
    return std
