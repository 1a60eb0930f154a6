"""The food production licence number (食品生产许可证编号) an organization may carry: SC and 14 digits."""

from __future__ import annotations

import pytest

from tests.conftest import valid_credit_code

LICENCE = "SC11442128100019"  # made up, of the right shape


def _create(client, headers, code: str, licence: str, serial: int, **extra):
    body = {"code": code, "name": "赤壁市砖茶厂", "kind": "processor", "credit_code": valid_credit_code(serial),
            "production_licence": licence}  # fmt: skip
    return client.post("/api/v1/organizations", json=body, headers={**headers, **extra})


def _codes(client, headers) -> list[str]:
    return [o["code"] for o in client.get("/api/v1/organizations", headers=headers).get_json()["items"]]


def test_an_organization_carries_its_licence_as_printed(client, auth):
    headers = auth("admin")
    response = _create(client, headers, "CB-TEA", " sc1144 2128 100019 ", 731)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["production_licence"] == LICENCE  # spaces dropped, SC in capitals
    listed = client.get("/api/v1/organizations", headers=headers).get_json()["items"]
    assert next(o for o in listed if o["code"] == "CB-TEA")["production_licence"] == LICENCE


@pytest.mark.parametrize(
    ("licence", "zh", "en"),
    [
        ("QS11442128100019", "应以 SC 开头，后接 14 位数字", "must start with SC followed by 14 digits"),
        ("SC1144212810001", "SC 之后应为 14 位数字，实为 13 位", "SC must be followed by 14 digits, got 13"),
        ("SC114421281000190", "SC 之后应为 14 位数字，实为 15 位", "SC must be followed by 14 digits, got 15"),
        ("SC1144212810001X", "SC 之后只能是数字", "only digits may follow SC"),
        ("SC１１４４２１２８１０００１９", "SC 之后只能是数字", "only digits may follow SC"),  # full-width digits
    ],
)
def test_a_bad_licence_is_refused_in_the_users_language_and_nothing_is_stored(client, auth, licence, zh, en):
    headers = auth("admin")
    response = _create(client, headers, "BAD-SC", licence, 732)
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"] == {"production_licence": [zh]}
    english = _create(client, headers, "BAD-SC", licence, 732, **{"Accept-Language": "en"})
    assert english.status_code == 422
    assert english.get_json()["errors"]["json"] == {"production_licence": [en]}
    assert "BAD-SC" not in _codes(client, headers)


def test_one_licence_has_one_holder(client, auth):
    headers = auth("admin")
    assert _create(client, headers, "CB-ONE", LICENCE, 733).status_code == 201
    again = _create(client, headers, "CB-TWO", LICENCE, 734)
    assert again.status_code == 409
    assert again.get_json()["errors"]["json"] == {"production_licence": ["已登记在主体 CB-ONE 名下"]}
    assert "CB-TWO" not in _codes(client, headers)
