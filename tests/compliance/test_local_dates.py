"""Dates shown to people are China dates; the pre-harvest decision is taken on instants; and a
moment stored at the ends of the calendar (before moments were range-checked) breaks no read."""

from __future__ import annotations

import datetime as dt

from app.batches.models import Event
from app.clock import CHINA_TZ as CST
from app.compliance.verdicts import refresh_batches
from app.db import db
from tests.compliance.factories import add_event
from tests.conftest import settle

UTC = dt.UTC


def spray(applied_at: str, phi_days: int = 7, name: str = "多菌灵") -> dict:
    return {"kind": "pesticide", "name": name, "dose": "50", "dose_unit": "mL/亩", "applied_at": applied_at,
            "phi_days": phi_days}  # fmt: skip


def test_interval_dates_are_the_china_dates_the_evaluation_uses(client, producer, make_batch, inspector_headers):
    batch = make_batch("loquat")
    # 20:00 UTC on 10 September is 04:00 on the 11th in Xianning; 22:30 UTC on 27 September is the 28th.
    add_event(batch, producer, "planting", dt.datetime(2026, 9, 10, 20, tzinfo=UTC),
              {"inputs": [spray("2026-09-10T20:00:00+00:00")]})  # fmt: skip
    add_event(batch, producer, "harvest", dt.datetime(2026, 9, 27, 22, 30, tzinfo=UTC), {"quantity": "5", "unit": "kg"})

    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers).get_json()
    assert (body["evaluated_on"], body["basis"]) == ("2026-09-28", "harvest")
    [check] = body["pre_harvest"]
    assert check["harvested_at"] == "2026-09-28T06:30:00+08:00"
    assert check["applied_at"] == "2026-09-11T04:00:00+08:00"
    # Seven calendar days in China: the harvest is on time from the start of 18 September there.
    assert check["safe_from"] == "2026-09-18T00:00:00+08:00"
    assert check["harvested_at"][:10] == body["evaluated_on"]
    # The same instants as before, only told in China time.
    assert dt.datetime.fromisoformat(check["harvested_at"]) == dt.datetime(2026, 9, 27, 22, 30, tzinfo=UTC)
    assert check["breached"] is False


def test_the_breach_is_decided_on_china_calendar_days_not_hours(client, producer, make_batch, inspector_headers):
    """Sprayed at 23:00 on 6 September (China time) with a 21-day interval: safe from 27 September.
    A harvest at 22:30 on the 26th is one day early; one at 00:30 on the 27th (25.5 hours later
    than the spray's hour would allow on a clock) is on time, and so is 22:30 on the 27th."""

    def harvested(at: dt.datetime) -> dict:
        batch = make_batch("loquat")
        add_event(batch, producer, "planting", dt.datetime(2026, 9, 6, 23, tzinfo=CST),
                  {"inputs": [spray("2026-09-06T23:00:00+08:00", phi_days=21)]})  # fmt: skip
        add_event(batch, producer, "harvest", at, {"quantity": "5", "unit": "kg"})
        body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers).get_json()
        [check] = body["pre_harvest"]
        return {**check, "verdict": body["verdict"], "findings": [f["kind"] for f in body["findings"]]}

    early = harvested(dt.datetime(2026, 9, 26, 22, 30, tzinfo=CST))
    assert (early["breached"], early["days_short"], early["verdict"]) == (True, 1, "fail")
    assert early["findings"] == ["pre_harvest_interval"]
    assert early["safe_from"] == "2026-09-27T00:00:00+08:00"
    # On exactly the PHI day, at any hour: on time. (16:30 UTC on the 26th is 00:30 on the 27th.)
    for on_the_day in (dt.datetime(2026, 9, 26, 16, 30, tzinfo=UTC), dt.datetime(2026, 9, 27, 22, 30, tzinfo=CST)):
        late = harvested(on_the_day)
        assert (late["breached"], late["days_short"], late["findings"]) == (False, 0, [])


def _rewrite_planting(event: Event, applied_at: str, phi_days: int) -> None:
    """A planting record as one could be stored before application dates were range-checked."""
    event.data = {"inputs": [spray(applied_at, phi_days=phi_days)]}
    db.session.flush()
    settle()


def test_an_application_at_the_start_of_the_calendar_reads_without_error(
    client, producer, make_batch, inspector_headers
):
    batch = make_batch("loquat")
    planted = add_event(batch, producer, "planting", dt.datetime(2026, 4, 1, 8, tzinfo=CST),
                        {"inputs": [spray("2026-04-01T08:00:00+08:00")]})  # fmt: skip
    add_event(batch, producer, "harvest", dt.datetime(2026, 4, 20, 8, tzinfo=CST), {"quantity": "5", "unit": "kg"})
    _rewrite_planting(planted, "0001-01-01T00:00:00+14:00", 7)

    response = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers)
    assert response.status_code == 200, response.get_json()
    [check] = response.get_json()["pre_harvest"]
    # Too early to move to China time: told with the offset it was given.
    assert check["applied_at"] == "0001-01-01T00:00:00+14:00"
    assert (check["harvested_at"], check["breached"]) == ("2026-04-20T08:00:00+08:00", False)
    assert client.get(f"/api/v1/batches/{batch.id}/compliance.pdf", headers=inspector_headers).status_code == 200


def test_a_harvest_at_the_end_of_the_calendar_reads_without_error(client, producer, make_batch, inspector_headers):
    batch = make_batch("loquat")
    planted = add_event(batch, producer, "planting", dt.datetime(2026, 4, 1, 8, tzinfo=CST),
                        {"inputs": [spray("2026-04-01T08:00:00+08:00")]})  # fmt: skip
    harvest = add_event(batch, producer, "harvest", dt.datetime(2026, 4, 20, 8, tzinfo=CST),
                        {"quantity": "5", "unit": "kg"})  # fmt: skip
    # Applied two days before the last representable moment, with a 21-day interval: the interval
    # ends beyond the calendar, so the harvest (stored at its very end) came before it ended.
    _rewrite_planting(planted, "9999-12-29T20:00:00+00:00", 21)
    harvest.occurred_at = dt.datetime(9999, 12, 31, 20, tzinfo=UTC)
    db.session.flush()
    settle()

    response = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["basis"] == "harvest"
    [check] = body["pre_harvest"]
    assert check["breached"] is True and check["days_short"] >= 1
    assert check["harvested_at"] == "9999-12-31T20:00:00+00:00"
    # The rows were changed behind the services' back: the page judges them as they are now, but
    # a read opens nothing. Storing the verdict (``flask compliance refresh``) opens the finding.
    assert body["findings"] == []
    refresh_batches([batch.id])
    settle()
    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector_headers).get_json()
    assert [f["kind"] for f in body["findings"]] == ["pre_harvest_interval"]
    assert client.get(f"/api/v1/batches/{batch.id}/compliance.pdf", headers=inspector_headers).status_code == 200
