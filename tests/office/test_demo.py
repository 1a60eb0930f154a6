"""The demo's office login lands on the dashboard, with figures from the demo data."""

from __future__ import annotations

from app.demo import DEMO_PASSWORDS, load_demo


def test_the_demo_admin_lands_on_a_dashboard_of_the_demo_data(client, app):
    load_demo()
    client.get("/login")
    with client.session_transaction() as s:
        token = s["csrf_token"]
    response = client.post(
        "/login", data={"username": "admin", "password": DEMO_PASSWORDS["admin"], "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"].rstrip("/").endswith("/office")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "试点看板" in page
    from app.office.dashboard import summary

    figures = summary()
    # The demo's producers, cooperatives and households (not the office, the regulator, the lab).
    assert figures["adoption"]["enrolled"] >= 9
    assert figures["adoption"]["by_county"]["通山县"] >= 4
    assert all(figures["adoption"]["by_product"][k] >= 1 for k in figures["adoption"]["by_product"])
    assert figures["compliance"]["tested"] >= 1
    assert figures["certifications"]["held"] >= 1
    assert f"{figures['adoption']['enrolled']} <small>/ 200</small>" in page
