"""The demo's logins for a household, the loquat cooperative and a processor reach the field app."""

from __future__ import annotations

import pytest

from app.demo import DEMO_PASSWORDS, load_demo
from tests.field.conftest import sign_in


@pytest.mark.parametrize(
    ("username", "home", "lots"),
    [
        ("loquat-coop", "/field/", ("LQ-2026-DEMO-H1", "LQ-2026-DEMO-H2", "LQ-2026-DEMO-H3")),
        ("wang-farmer", "/field/", ()),
        ("tea-maker", "/field/", ("BT-2026-DEMO-01",)),
        ("inspector", "/desk/batches", ()),
    ],
)
def test_a_demo_login_lands_on_its_home(client, app, username, home, lots):
    load_demo()
    response = sign_in(client, username, DEMO_PASSWORDS[username])
    assert response.status_code == 302 and response.headers["Location"] == home
    page = client.get(home).get_data(as_text=True)
    for lot in lots:
        assert f'data-lot="{lot}"' in page


def test_the_household_sees_the_lot_the_cooperative_logged_for_it(client, app):
    load_demo()
    sign_in(client, "wang-farmer", DEMO_PASSWORDS["wang-farmer"])
    page = client.get("/field/").get_data(as_text=True)
    assert "王德明" in page and "data-lot=" in page
