"""The index page: every batch with its QR code and a link to its consumer page."""

from __future__ import annotations

import re

from tests.public.test_consumer import visible_text


def test_index_lists_batches_with_qr_and_link(client, make_journey):
    first, second = make_journey(), make_journey(recalled=True)
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for j in (first, second):
        assert j.batch.lot_code in html
        assert f'href="/t/{j.batch.public_code}"' in html
        assert re.search(rf'<img src="/t/{j.batch.public_code}/qr.png\?size=\d+"', html)
    words = visible_text(html)
    assert "通山枇杷" in words and "通山县 · 大畈镇李家枇杷园" in words
    assert "已召回" in words  # the recalled one says so


def test_index_in_english_keeps_the_language_on_its_links(client, journey):
    html = client.get("/?lang=en").get_data(as_text=True)
    words = visible_text(html)
    assert "Tongshan loquat" in words and "See its journey" in words
    assert f'href="/t/{journey.batch.public_code}?lang=en"' in html


def test_index_qr_images_resolve(client, journey):
    html = client.get("/").get_data(as_text=True)
    src = re.search(rf'<img src="(/t/{journey.batch.public_code}/qr.png\?size=\d+)"', html)[1]
    response = client.get(src)
    assert response.status_code == 200 and response.mimetype == "image/png"


def test_index_lists_nothing_in_production(app, client, journey, monkeypatch):
    # Listing every public code would hand out what the labels keep unguessable (invariant 9).
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    html = client.get("/").get_data(as_text=True)
    assert journey.batch.public_code not in html
    assert "用手机扫描包装上的二维码" in html
