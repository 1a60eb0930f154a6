"""QR codes: decoded with a real decoder (zxing-cpp), sized, cacheable, and only for the batch's readers."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from app.labels import qr
from tests.conftest import PUBLIC_BASE_URL
from tests.public.builders import Journey


def decode(image: Image.Image) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, found
    return found[0]


def png(response) -> Image.Image:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "image/png"
    return Image.open(io.BytesIO(response.data))


def rasterize_svg(svg: str, scale: int = 6) -> Image.Image:
    """Draw our SVG's own geometry (viewBox, white rect, path of runs) with Pillow, to decode it."""
    modules = int(re.search(r'viewBox="0 0 (\d+) \1"', svg)[1])
    path = re.search(r'<path fill="#000" d="([^"]+)"', svg)[1]
    image = Image.new("L", (modules * scale, modules * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path):
        x, y, width = int(x), int(y), int(width)
        draw.rectangle([x * scale, y * scale, (x + width) * scale - 1, (y + 1) * scale - 1], fill=0)
    assert "".join(re.findall(r"M\d+ \d+h\d+v1h-\d+z", path)) == path, "the path holds nothing but module runs"
    return image


@pytest.fixture
def reader(auth, journey: Journey) -> dict[str, str]:
    return auth(user=journey.user)


def url_of(journey: Journey) -> str:
    return f"{PUBLIC_BASE_URL}/t/{journey.batch.public_code}"


@pytest.mark.parametrize("size", [128, 300, 512, 2048])
def test_png_decodes_to_exactly_the_public_url(client, journey, reader, size):
    image = png(client.get(f"/api/v1/batches/{journey.batch.id}/qr.png?size={size}", headers=reader))
    assert image.size == (size, size)
    code = decode(image)
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.text == url_of(journey)
    assert code.ec_level == "M"


def test_default_size_and_quiet_zone_of_four_modules(client, journey, reader):
    image = png(client.get(f"/api/v1/batches/{journey.batch.id}/qr.png", headers=reader)).convert("L")
    assert image.size == (qr.DEFAULT_SIZE, qr.DEFAULT_SIZE)
    modules = len(qr.qr_matrix(url_of(journey)))
    box = qr.DEFAULT_SIZE // modules
    # The first dark pixel (the finder pattern's corner) sits at least four modules in.
    dark = [(x, y) for y in range(image.height) for x in range(image.width) if image.getpixel((x, y)) < 128]
    assert min(x for x, _ in dark) >= 4 * box and min(y for _, y in dark) >= 4 * box
    assert max(x for x, _ in dark) < image.width - 4 * box


def test_svg_decodes_to_exactly_the_public_url(client, journey, reader):
    response = client.get(f"/api/v1/batches/{journey.batch.id}/qr.svg?size=300", headers=reader)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert 'width="300" height="300"' in svg
    code = decode(rasterize_svg(svg))
    assert code.text == url_of(journey) and code.ec_level == "M"


def test_the_url_never_comes_from_the_host_header(client, journey, reader):
    image = png(
        client.get(
            f"/api/v1/batches/{journey.batch.id}/qr.png",
            headers={**reader, "Host": "phish.example.com", "X-Forwarded-Host": "phish.example.com"},
        )
    )
    assert decode(image).text == url_of(journey)


def test_etag_and_304(client, journey, reader):
    path = f"/api/v1/batches/{journey.batch.id}/qr.png?size=256"
    first = client.get(path, headers=reader)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    assert first.headers["Cache-Control"] == "private, max-age=86400"
    again = client.get(path, headers={**reader, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    other_size = client.get(f"/api/v1/batches/{journey.batch.id}/qr.png?size=512", headers=reader)
    assert other_size.headers["ETag"] != etag
    stale = client.get(path, headers={**reader, "If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200 and stale.data == first.data
    svg = client.get(f"/api/v1/batches/{journey.batch.id}/qr.svg?size=256", headers=reader)
    assert svg.headers["ETag"] != etag
    assert (
        client.get(
            f"/api/v1/batches/{journey.batch.id}/qr.svg?size=256",
            headers={**reader, "If-None-Match": svg.headers["ETag"]},
        ).status_code
        == 304
    )


@pytest.mark.parametrize("size", ["64", "127", "2049", "abc", "-5"])
def test_bad_size_is_a_422_naming_size(client, journey, reader, size):
    response = client.get(f"/api/v1/batches/{journey.batch.id}/qr.png?size={size}", headers=reader)
    assert response.status_code == 422
    assert "size" in response.get_json()["errors"]["query"]


def test_who_may_fetch_a_batch_qr(client, journey, auth, make_user):
    path = f"/api/v1/batches/{journey.batch.id}/qr.png"
    assert client.get(path).status_code == 401
    # Another organization's batch is a 404, as in the batches API: ids cannot be probed.
    assert client.get(path, headers=auth("farmer")).status_code == 404
    assert client.get(path, headers=auth(user=journey.user)).status_code == 200  # custodian
    producer = make_user("farmer", org=journey.household)
    assert client.get(path, headers=auth(user=producer)).status_code == 200  # producer
    assert client.get(path, headers=auth("inspector")).status_code == 200
    assert client.get(path, headers=auth("admin")).status_code == 200
    assert client.get("/api/v1/batches/999999999/qr.png", headers=auth("admin")).status_code == 404


def test_public_qr_by_code_needs_no_login(client, journey):
    response = client.get(f"/t/{journey.batch.public_code}/qr.png?size=200")
    image = png(response)
    assert image.size == (200, 200)
    assert decode(image).text == url_of(journey)
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    etag = response.headers["ETag"]
    again = client.get(f"/t/{journey.batch.public_code}/qr.png?size=200", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_public_qr_unknown_code_and_bad_size(client, journey):
    assert client.get("/t/AAAAAAAAAAAAAAAAAAAAAA/qr.png").status_code == 404
    bad = client.get(f"/t/{journey.batch.public_code}/qr.png?size=20")
    assert bad.status_code == 422 and "size" in bad.get_data(as_text=True)


def test_rendering_is_pure_and_refuses_a_code_too_big_for_the_image():
    url = "https://trace.example.cn/t/" + "x" * 22
    assert qr.render_png(url, 256) == qr.render_png(url, 256)
    matrix = qr.qr_matrix(url)
    assert not any(matrix[0]) and not any(row[0] for row in matrix)  # quiet zone on the edges
    assert all(not any(matrix[i]) for i in range(qr.QUIET_ZONE))
    with pytest.raises(qr.SizeTooSmall):
        qr.render_png("https://trace.example.cn/t/" + "x" * 1200, qr.MIN_SIZE)


def test_a_size_too_small_for_a_long_base_url_is_a_422(app, client, journey, reader, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://trace.example.cn/" + "long-path/" * 120)
    response = client.get(f"/api/v1/batches/{journey.batch.id}/qr.png?size=128", headers=reader)
    assert response.status_code == 422
    assert "pixels" in response.get_json()["errors"]["query"]["size"][0]
