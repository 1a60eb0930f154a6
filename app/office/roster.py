"""The pilot's roster (花名册) as an XLSX workbook: the template, the checks, and the import.

One set of checks serves the import and the office's organization form: every reason is in
Chinese and names the column, because the people who fix a roster read Chinese and work in
Excel. The import is all or nothing: every row is checked (against the file and the database)
before anything is written, and a row that matches what is stored changes nothing, so importing
the same file twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from app.catalog.products import PRODUCTS
from app.db import db
from app.errors import InvalidInput
from app.i18n import N_
from app.office.models import Enrollment
from app.orgs.credit_code import check_character, credit_code_error
from app.orgs.models import Organization, OrgKind

# Xianning's six counties and the city itself (for city-level bodies such as the pilot office).
COUNTIES = ("咸安区", "嘉鱼县", "赤壁市", "通城县", "崇阳县", "通山县", "咸宁市")

KIND_LABELS: dict[str, str] = {
    OrgKind.farm_household: N_("农户"),
    OrgKind.cooperative: N_("合作社"),
    OrgKind.enterprise: N_("企业"),
    OrgKind.processor: N_("加工企业"),
    OrgKind.logistics: N_("物流企业"),
    OrgKind.retailer: N_("零售商"),
    OrgKind.lab: N_("检测机构"),
    OrgKind.regulator: N_("监管部门"),
}
_KIND_BY_TEXT = {**{label: key for key, label in KIND_LABELS.items()}, **{k.value: k.value for k in OrgKind}}
# Kinds that take part in the pilot as producers and traders (the 200 the plan counts).
PARTICIPANT_KINDS = tuple(str(k) for k in KIND_LABELS if k not in (OrgKind.lab, OrgKind.regulator))
_PRODUCT_BY_TEXT = {
    **{spec.name_zh: key for key, spec in PRODUCTS.items()},
    **{key: key for key in PRODUCTS},
}

# The roster's columns, in order: (key, header). The header is what a row's error names.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "编码"),
    ("name", "名称"),
    ("kind", "类型"),
    ("county", "县（市、区）"),
    ("credit_code", "统一社会信用代码"),
    ("masked_id", "身份证号（脱敏）"),
    ("contact_phone", "联系电话"),
    ("cooperative", "所属合作社编码"),
    ("products", "产品线"),
)
HEADER = dict(COLUMNS)
SHEET = "花名册"
MAX_ROWS = 5000

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")
_MASKED_ID = re.compile(r"^\d{4}\*{10}\d{3}[\dX]$|^\d{6}\*{8}\d{3}[\dX]$")
_PHONE = re.compile(r"^[0-9+\- ]{5,20}$")
_LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class RosterInvalid(InvalidInput):
    """A roster refused whole; ``errors["rows"]`` names each bad row, column and reason."""

    def __init__(self, problems: list[RowError]) -> None:
        first = problems[0]
        more = f"，另有 {len(problems) - 1} 处" if len(problems) > 1 else ""
        super().__init__(
            f"花名册有误，未导入任何数据：第 {first.row} 行「{first.column}」{first.reason}{more}。",
            {"rows": [p.as_dict() for p in problems]},
        )
        self.problems = problems


@dataclass
class ImportResult:
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "sha256": self.sha256,
        }


# --- the checks, shared with the organization form ------------------------------------------------


def credit_code_reason_zh(code: str) -> str | None:
    """The project's GB 32100 check (app.orgs.credit_code), its reason said in Chinese."""
    if credit_code_error(code) is None:
        return None
    if len(code) != 18:
        return f"应为 18 位，实际 {len(code)} 位"
    try:
        expected = check_character(code[:17])
    except ValueError:
        expected = None
    if expected is None or credit_code_error(code[:17] + expected) is not None:
        return "含有不允许的字符（只能是数字和除 I、O、S、V、Z 外的大写字母，第 3–8 位为行政区划代码）"
    return f"校验位错误：第 18 位应为 {expected}，实为 {code[17]}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def normalize(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A row or a form as the checks read it: text trimmed, empty as None, kind and products as keys."""
    values: dict[str, Any] = {key: (_text(raw.get(key)) or None) for key, _ in COLUMNS}
    if values["credit_code"]:
        values["credit_code"] = values["credit_code"].upper()
    kind = values["kind"]
    values["kind"] = _KIND_BY_TEXT.get(kind, kind) if kind else None
    products = raw.get("products")
    if isinstance(products, (list, tuple)):
        names = [_text(p) for p in products if _text(p)]
    else:
        names = [p for p in _LIST_SEPARATORS.split(_text(products)) if p]
    values["products"] = [_PRODUCT_BY_TEXT.get(n, n) for n in names]
    return values


def check_values(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Everything one row or form can get wrong on its own: ``[(column key, reason in Chinese)]``."""
    problems: list[tuple[str, str]] = []
    code, kind = values["code"], values["kind"]
    if not code:
        problems.append(("code", "不能为空"))
    elif not _CODE.match(code):
        problems.append(("code", "应为 2–40 位字母、数字、“-”或“_”，以字母或数字开头"))
    if not values["name"]:
        problems.append(("name", "不能为空"))
    elif len(values["name"]) > 200:
        problems.append(("name", "不能超过 200 个字"))
    if not kind:
        problems.append(("kind", "不能为空"))
    elif kind not in KIND_LABELS:
        problems.append(("kind", f"应为以下之一：{'、'.join(KIND_LABELS.values())}"))
    if not values["county"]:
        problems.append(("county", "不能为空"))
    elif values["county"] not in COUNTIES:
        problems.append(("county", f"应为咸宁市所辖的县（市、区）之一：{'、'.join(COUNTIES)}"))
    credit = values["credit_code"]
    if credit:
        reason = credit_code_reason_zh(credit)
        if reason:
            problems.append(("credit_code", reason))
        elif kind == OrgKind.farm_household:
            problems.append(("credit_code", "农户没有统一社会信用代码，请留空，填写脱敏身份证号"))
    elif kind in KIND_LABELS and kind not in (OrgKind.farm_household, OrgKind.regulator):
        problems.append(("credit_code", f"{KIND_LABELS[kind]}必须填写统一社会信用代码"))
    masked = values["masked_id"]
    if masked:
        if kind != OrgKind.farm_household:
            problems.append(("masked_id", "只有农户填写脱敏身份证号"))
        elif not _MASKED_ID.match(masked):
            problems.append(("masked_id", "应为中间已遮盖的身份证号，如 4212**********123X；不得填写完整号码"))
    if values["contact_phone"] and not _PHONE.match(values["contact_phone"]):
        problems.append(("contact_phone", "应为 5–20 位数字"))
    if values["cooperative"] and kind != OrgKind.farm_household:
        problems.append(("cooperative", "只有农户可以挂靠合作社"))
    unknown = [p for p in values["products"] if p not in PRODUCTS]
    if unknown:
        names = "、".join(spec.name_zh for spec in PRODUCTS.values())
        problems.append(("products", f"不认识「{'、'.join(unknown)}」；应为：{names}"))
    return problems


# --- reading the workbook -------------------------------------------------------------------------


def _rows(stream: IO[bytes]) -> list[tuple[int, dict[str, Any]]]:
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise RosterInvalid([RowError(0, "文件", "不是有效的 XLSX 工作簿，请用下载的模板填写后上传")]) from exc
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [_text(h) for h in next(lines, ())]
        by_header = {h: i for i, h in enumerate(header) if h}
        missing = [
            title for key, title in COLUMNS if title not in by_header and key in ("code", "name", "kind", "county")
        ]
        if missing:
            raise RosterInvalid([RowError(1, title, "缺少这一列（表头须与模板一致）") for title in missing])
        rows: list[tuple[int, dict[str, Any]]] = []
        for number, line in enumerate(lines, start=2):
            raw = {key: line[by_header[title]] if title in by_header and by_header[title] < len(line) else None
                   for key, title in COLUMNS}  # fmt: skip
            if all(_text(v) == "" for v in raw.values()):
                continue
            rows.append((number, raw))
            if len(rows) > MAX_ROWS:
                raise RosterInvalid([RowError(number, "文件", f"一次最多导入 {MAX_ROWS} 行，请分批导入")])
        return rows
    finally:
        book.close()


# --- the import -----------------------------------------------------------------------------------

_STORED = ("name", "kind", "county", "credit_code", "masked_id", "contact_phone")


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def import_roster(data: bytes) -> ImportResult:
    """Check the whole roster, then create or update its organizations; raise RosterInvalid naming every bad row."""
    result = ImportResult(sha256=hashlib.sha256(data).hexdigest())
    rows = [(number, normalize(raw)) for number, raw in _rows(io.BytesIO(data))]
    result.rows = len(rows)
    problems: list[RowError] = []

    def bad(number: int, key: str, reason: str) -> None:
        problems.append(RowError(number, HEADER[key], reason))

    for number, values in rows:
        for key, reason in check_values(values):
            bad(number, key, reason)

    # Within the file: each code and each credit code once.
    first_row: dict[tuple[str, str], int] = {}
    for number, values in rows:
        for key in ("code", "credit_code"):
            if values[key]:
                seen = first_row.setdefault((key, values[key]), number)
                if seen != number:
                    bad(number, key, f"与第 {seen} 行重复")

    codes = [v["code"] for _, v in rows if v["code"]]
    credits = [v["credit_code"] for _, v in rows if v["credit_code"]]
    coop_codes = [v["cooperative"] for _, v in rows if v["cooperative"]]
    existing: dict[str, Organization] = {}
    for chunk in _chunks(sorted(set(codes) | set(coop_codes))):
        existing.update(
            {o.code: o for o in db.session.scalars(select(Organization).where(Organization.code.in_(chunk)))}
        )
    credit_owner: dict[str, str] = {}
    for chunk in _chunks(sorted(set(credits))):
        for credit, owner_code in db.session.execute(
            select(Organization.credit_code, Organization.code).where(Organization.credit_code.in_(chunk))
        ):
            credit_owner[credit or ""] = owner_code
    file_kinds = {v["code"]: v["kind"] for _, v in rows if v["code"]}
    for number, values in rows:
        owner = credit_owner.get(values["credit_code"] or "")
        if owner is not None and owner != values["code"]:
            bad(number, "credit_code", f"已登记在主体 {owner} 名下")
        coop = values["cooperative"]
        if coop:
            kind = file_kinds[coop] if coop in file_kinds else (existing[coop].kind if coop in existing else None)
            if kind is None:
                bad(number, "cooperative", f"没有编码为 {coop} 的合作社（本表和系统中都没有）")
            elif kind != OrgKind.cooperative:
                bad(number, "cooperative", f"{coop} 不是合作社")
            elif coop == values["code"]:
                bad(number, "cooperative", "不能挂靠自己")
    if problems:
        raise RosterInvalid(sorted(problems, key=lambda p: p.row))

    enrolled: dict[int, set[str]] = {}
    existing_ids = [o.id for o in existing.values()]
    for start in range(0, len(existing_ids), 500):
        for org_id, product in db.session.execute(
            select(Enrollment.organization_id, Enrollment.product_key).where(
                Enrollment.organization_id.in_(existing_ids[start : start + 500])
            )
        ):
            enrolled.setdefault(org_id, set()).add(product)

    # Cooperatives first, so each household's row can point at its cooperative's object.
    by_code = dict(existing)
    ordered = sorted(rows, key=lambda r: r[1]["kind"] != OrgKind.cooperative)
    new_orgs: list[Organization] = []
    to_enroll: dict[str, list[str]] = {}
    pending_coops: list[tuple[Organization, str | None]] = []
    for _number, values in ordered:
        org = by_code.get(values["code"])
        if org is None:
            org = Organization(code=values["code"], **{k: values[k] for k in _STORED})
            by_code[org.code] = org
            new_orgs.append(org)
            result.created.append(org.code)
            pending_coops.append((org, values["cooperative"]))
            org_products: set[str] = set()
        else:
            changed = [k for k in _STORED if getattr(org, k) != values[k]]
            coop_now = org.cooperative.code if org.cooperative else None
            org_products = enrolled.get(org.id, set())
            if changed or coop_now != values["cooperative"] or not set(values["products"]) <= org_products:
                for k in changed:
                    setattr(org, k, values[k])
                pending_coops.append((org, values["cooperative"]))
                result.updated.append(org.code)
            else:
                result.unchanged += 1
        to_enroll[org.code] = [p for p in values["products"] if p not in org_products]
    db.session.add_all(new_orgs)
    for org, coop in pending_coops:
        org.cooperative = by_code[coop] if coop else None
    db.session.flush()
    db.session.add_all(
        Enrollment(organization_id=by_code[code].id, product_key=product)
        for code, products in to_enroll.items()
        for product in products
    )
    db.session.flush()
    return result


# --- the template ---------------------------------------------------------------------------------

_EXAMPLES = (
    (
        "TS-DAFAN-COOP",
        "通山县大畈镇枇杷专业合作社（示例）",
        "合作社",
        "通山县",
        "93421224MA4F7K2W0A",
        "",
        "",
        "",
        "通山枇杷",
    ),
    ("TS-HH-0001", "王某某（示例）", "农户", "通山县", "", "4212**********123X", "", "TS-DAFAN-COOP", "通山枇杷"),
)


def template_workbook() -> bytes:
    """The roster template: the header, two example rows to overwrite, drop-downs, and a sheet of instructions."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append([title for _, title in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="2F6B3A")
    for example in _EXAMPLES:
        sheet.append(list(example))
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHI", (18, 36, 12, 14, 22, 22, 16, 18, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    kinds = DataValidation(type="list", formula1='"' + ",".join(KIND_LABELS.values()) + '"', allow_blank=False)
    counties = DataValidation(type="list", formula1='"' + ",".join(COUNTIES) + '"', allow_blank=False)
    sheet.add_data_validation(kinds)
    sheet.add_data_validation(counties)
    kinds.add(f"C2:C{MAX_ROWS + 1}")
    counties.add(f"D2:D{MAX_ROWS + 1}")
    # Credit codes and masked IDs are text, never numbers Excel would round.
    for column in ("E", "F", "G"):
        for row in range(2, 202):
            sheet[f"{column}{row}"].number_format = "@"
    notes = book.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 90
    rows = [
        ("列", "怎么填"),
        ("编码", "主体的唯一编码，2–40 位字母、数字、“-”或“_”。再次导入时按编码找到同一主体：相同则不变，不同则更新。"),
        ("名称", "主体全称。"),
        ("类型", "、".join(KIND_LABELS.values())),
        ("县（市、区）", "、".join(COUNTIES)),
        ("统一社会信用代码", "18 位，含校验位；农户和监管部门不填，其他类型必填。"),
        ("身份证号（脱敏）", "仅农户填写，中间遮盖，如 4212**********123X。切勿填写完整身份证号。"),
        ("联系电话", "可不填。"),
        ("所属合作社编码", "农户挂靠的合作社的编码（本表中或系统中已有的合作社）。"),
        ("产品线", "参与试点的产品线，可填多个，用顿号分隔：" + "、".join(s.name_zh for s in PRODUCTS.values())),
        ("导入规则", "整表导入：任何一行有误，整表都不导入，并列出每一处错误（行、列、原因）。示例行请替换或删除。"),
    ]
    for line in rows:
        notes.append(list(line))
    notes["A1"].font = notes["B1"].font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
