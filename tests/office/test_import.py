"""The roster import through the API: the template, all or nothing, every bad row named, idempotent, audited."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.db import db
from app.office.models import AuditEntry, Enrollment
from app.office.roster import COLUMNS
from app.orgs.models import Organization
from tests.conftest import valid_credit_code
from tests.office.conftest import HEADERS, coop_row, enterprise_row, household_row, roster_xlsx

URL = "/api/v1/organizations/import"


def upload(client, headers, data: bytes, name: str = "roster.xlsx"):
    body = {"file": (io.BytesIO(data), name)}
    return client.post(URL, headers=headers, data=body, content_type="multipart/form-data")


def org_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organization)) or 0


def test_the_template_downloads_with_every_column_and_instructions(client, auth):
    response = client.get("/api/v1/organizations/import/template.xlsx", headers=auth("admin"))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["花名册", "填写说明"]
    assert [c.value for c in book["花名册"][1]] == HEADERS
    assert book["花名册"]["C2"].value == "合作社"
    assert "整表导入" in "".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row)


def test_the_template_itself_imports(client, auth):
    """Its example rows are valid: a cooperative and a member household."""
    headers = auth("admin")
    template = client.get("/api/v1/organizations/import/template.xlsx", headers=headers).data
    response = upload(client, headers, template)
    assert response.status_code == 201, response.get_json()
    household = db.session.scalar(select(Organization).where(Organization.code == "TS-HH-0001"))
    assert household is not None and household.cooperative is not None
    assert household.cooperative.code == "TS-DAFAN-COOP"


def test_a_good_roster_creates_every_row_with_members_under_their_cooperative(client, auth):
    headers = auth("admin")
    before = org_count()
    rows = [household_row("IMP-HH-1", "IMP-COOP"), coop_row("IMP-COOP", 70_001), enterprise_row("IMP-ENT", 70_002)]
    response = upload(client, headers, roster_xlsx(rows))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["rows"] == 3 and body["created"] == 3 and body["updated"] == 0 and body["unchanged"] == 0
    assert org_count() == before + 3
    coop = db.session.scalar(select(Organization).where(Organization.code == "IMP-COOP"))
    assert [m.code for m in coop.members] == ["IMP-HH-1"]
    household = db.session.scalar(select(Organization).where(Organization.code == "IMP-HH-1"))
    assert household.kind == "farm_household" and household.masked_id == "4212**********123X"
    assert household.credit_code is None
    products = db.session.scalars(select(Enrollment.product_key).where(Enrollment.organization_id == coop.id)).all()
    assert products == ["loquat"]


def test_re_importing_the_same_file_changes_nothing(client, auth):
    headers = auth("admin")
    data = roster_xlsx([coop_row("IMP2-COOP", 70_011), household_row("IMP2-HH", "IMP2-COOP")])
    assert upload(client, headers, data).status_code == 201
    count, audits = org_count(), db.session.scalar(select(func.count()).select_from(AuditEntry))
    again = upload(client, headers, data)
    assert again.status_code == 201
    assert again.get_json() | {"sha256": ""} == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "sha256": ""}
    assert org_count() == count
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_a_changed_row_updates_that_organization_only(client, auth):
    headers = auth("admin")
    rows = [coop_row("IMP3-COOP", 70_021), enterprise_row("IMP3-ENT", 70_022)]
    assert upload(client, headers, roster_xlsx(rows)).status_code == 201
    rows[1][1] = "改名后的茶业公司"
    response = upload(client, headers, roster_xlsx(rows))
    assert response.get_json()["updated"] == 1 and response.get_json()["unchanged"] == 1
    ent = db.session.scalar(select(Organization).where(Organization.code == "IMP3-ENT"))
    assert ent.name == "改名后的茶业公司"


def test_one_bad_row_refuses_the_whole_file_naming_row_column_and_reason(client, auth):
    headers = auth("admin")
    before = org_count()
    bad_code = valid_credit_code(70_031)[:17] + ("0" if valid_credit_code(70_031)[17] != "0" else "1")
    rows = [
        coop_row("IMP4-COOP", 70_030),
        enterprise_row("IMP4-ENT", 70_031),
        household_row("IMP4-HH", "IMP4-COOP"),
    ]
    rows[1][4] = bad_code
    response = upload(client, headers, roster_xlsx(rows))
    assert response.status_code == 422
    body = response.get_json()
    expected = valid_credit_code(70_031)[17]
    reason = f"校验位错误：第 18 位应为 {expected}，实为 {bad_code[17]}"
    assert body["errors"]["rows"] == [{"row": 3, "column": "统一社会信用代码", "reason": reason}]
    assert "第 3 行" in body["message"]
    assert org_count() == before  # all or nothing: the good rows were not stored either


def test_every_bad_row_is_named_in_chinese(client, auth, make_org):
    headers = auth("admin")
    taken = make_org(kind="enterprise")
    rows = [
        ["", "无编码", "合作社", "通山县", valid_credit_code(70_041), "", "", "", ""],  # row 2
        ["IMP5-A", "甲", "工厂", "通山县", valid_credit_code(70_042), "", "", "", ""],  # row 3: kind
        ["IMP5-B", "乙", "企业", "武汉市", valid_credit_code(70_043), "", "", "", ""],  # row 4: county
        ["IMP5-C", "丙", "企业", "赤壁市", "", "", "", "", ""],  # row 5: credit code required
        ["IMP5-D", "丁", "农户", "通山县", "", "421224199001011234", "", "", ""],  # row 6: a whole ID
        ["IMP5-E", "戊", "农户", "通山县", "", "", "", "NO-SUCH-COOP", ""],  # row 7: unknown cooperative
        ["IMP5-F", "己", "企业", "赤壁市", taken.credit_code, "", "", "", ""],  # row 8: credit code taken
        ["IMP5-F", "庚", "企业", "赤壁市", valid_credit_code(70_044), "", "", "", "西瓜"],  # row 9: dup, product
    ]
    response = upload(client, headers, roster_xlsx(rows))
    assert response.status_code == 422
    named = {(e["row"], e["column"]) for e in response.get_json()["errors"]["rows"]}
    assert named >= {
        (2, "编码"), (3, "类型"), (4, "县（市、区）"), (5, "统一社会信用代码"), (6, "身份证号（脱敏）"),
        (7, "所属合作社编码"), (8, "统一社会信用代码"), (9, "编码"), (9, "产品线"),
    }  # fmt: skip
    reasons = {(e["row"], e["column"]): e["reason"] for e in response.get_json()["errors"]["rows"]}
    assert reasons[(8, "统一社会信用代码")] == f"已登记在主体 {taken.code} 名下"
    assert reasons[(9, "编码")] == "与第 8 行重复"


def test_a_file_that_is_not_a_workbook_is_refused(client, auth):
    response = upload(client, auth("admin"), b"code,name\nA,B\n", "roster.csv")
    assert response.status_code == 422
    assert response.get_json()["errors"]["rows"][0]["column"] == "文件"


def test_a_missing_column_is_named(client, auth):
    headers = [title for key, title in COLUMNS if key != "county"]
    response = upload(client, auth("admin"), roster_xlsx([["X-1", "甲", "企业", valid_credit_code(70_051)]], headers))
    assert response.status_code == 422
    reason = "缺少这一列（表头须与模板一致）"
    assert response.get_json()["errors"]["rows"] == [{"row": 1, "column": "县（市、区）", "reason": reason}]


def test_only_the_office_imports(client, auth):
    data = roster_xlsx([coop_row("IMP6-COOP", 70_061)])
    assert upload(client, {}, data).status_code == 401
    assert upload(client, auth("inspector"), data).status_code == 403
    assert upload(client, auth("cooperative"), data).status_code == 403


def test_the_import_is_in_the_audit_log(client, auth):
    headers = auth("admin")
    upload(client, headers, roster_xlsx([coop_row("IMP7-COOP", 70_071)]), "咸宁花名册.xlsx")
    response = client.get("/api/v1/office/audit", headers=headers)
    assert response.status_code == 200
    entry = response.get_json()["items"][0]
    assert entry["action"] == "org.import" and entry["action_zh"] == "导入花名册"
    assert entry["target"] == "咸宁花名册.xlsx"
    assert entry["details"]["created"] == 1 and entry["details"]["created_codes"] == ["IMP7-COOP"]
    assert entry["actor"].startswith("user")
    assert response.get_json()["meta"]["total"] >= 1
    assert client.get("/api/v1/office/audit", headers=auth("inspector")).status_code == 403
