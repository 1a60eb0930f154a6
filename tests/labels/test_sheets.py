"""What a label run prints, read back as a person or a printer would: PDF text and QR codes, ZPL, TSPL."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from app.labels import sheets
from tests.labels.test_resolver import make_units


def run_of(client, labelled, count, template):
    body = client.post(f"/api/v1/batches/{labelled.batch.id}/label-runs", json={"count": count, "template": template},
                       headers=labelled.headers).get_json()  # fmt: skip
    import csv

    rows = client.get(f"/api/v1/label-runs/{body['id']}/units.csv", headers=labelled.headers).data.decode("utf-8-sig")
    return body, list(csv.DictReader(io.StringIO(rows)))


def first_sheet(pdf: bytes) -> Image.Image:
    """The first page as pdftoppm renders it (300 dpi, greyscale)."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftoppm (poppler-utils) is missing")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "labels.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-f", "1", "-l", "1", "-singlefile", str(source),
                        str(Path(tmp) / "page")], check=True)  # fmt: skip
        return Image.open(Path(tmp) / "page.png").copy()


@pytest.mark.parametrize(("template", "per_page"), [("a4_24", 24), ("a4_40", 40)])
def test_the_first_sheet_decodes_to_exactly_its_units_uris(client, labelled, template, per_page):
    body, rows = run_of(client, labelled, per_page + 5, template)
    response = client.get(body["files"]["print"], headers=labelled.headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 2
    found = zxingcpp.read_barcodes(first_sheet(response.data), formats=zxingcpp.BarcodeFormat.QRCode)
    assert sorted(code.text for code in found) == sorted(r["uri"] for r in rows[:per_page])
    assert all(code.ec_level == "M" for code in found)


def test_the_pdf_text_shows_product_lot_serial_and_pin_on_every_label(client, labelled):
    body, rows = run_of(client, labelled, 26, "a4_24")
    pdf = PdfReader(io.BytesIO(client.get(body["files"]["print"], headers=labelled.headers).data))
    first, second = ("".join(page.extract_text().split()) for page in pdf.pages)
    assert first.count("赤壁青砖茶") == 24 and first.count(labelled.batch.lot_code) == 24
    for row in rows[:24]:
        assert row["serial"] in first and row["pin"] in first
    assert all(r["serial"] in second and r["pin"] in second for r in rows[24:])
    assert first.count("刮开验证") == 24


def test_crop_marks_sit_in_the_margins_on_every_cut_line():
    layout = sheets.LAYOUTS["a4_24"]
    faces = [sheets.LabelFace(f"https://trace.example.cn/u/{n:016d}", f"{n:016d}", "12345678") for n in range(3)]
    pdf = PdfReader(io.BytesIO(sheets.render_pdf(layout, "赤壁青砖茶", "BT-1", faces)))
    content = pdf.pages[0].get_contents().get_data().decode("latin-1")
    lines = re.findall(r"([\d.]+) ([\d.]+) m ([\d.]+) ([\d.]+) l S", content)
    # Two marks per vertical cut (top, bottom) and per horizontal cut (left, right).
    assert len(lines) == 2 * (layout.cols + 1) + 2 * (layout.rows + 1)
    left_mm = layout.margin_x_mm
    for x1, _, x2, _ in lines:
        if x1 != x2:  # a horizontal mark: wholly outside the label grid
            ends_mm = sorted(float(x) / 72 * 25.4 for x in (x1, x2))
            assert ends_mm[1] < left_mm or ends_mm[0] > 210 - left_mm


def test_zpl_has_one_label_per_unit_with_its_qr_and_text(client, labelled):
    body, rows = run_of(client, labelled, 5, "zpl")
    response = client.get(f"/api/v1/label-runs/{body['id']}.zpl", headers=labelled.headers)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    labels = re.findall(r"\^XA.*?\^XZ", text)
    assert len(labels) == 5
    for label, row in zip(labels, rows, strict=True):
        # QR model 2, error correction M, manual data input: the plain URI.
        assert f"^BQN,2,4^FH^FDMA,{row['uri']}^FS" in label
        assert f"^FD{row['serial']}^FS" in label and f"^FDPIN {row['pin']}^FS" in label
        assert f"^FDLOT {labelled.batch.lot_code}^FS" in label
    # The same units on A4 sheets, rendered on demand.
    pdf = client.get(f"/api/v1/label-runs/{body['id']}.pdf", headers=labelled.headers)
    assert pdf.status_code == 200
    assert all(r["serial"] in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text() for r in rows)


def test_tspl_has_one_print_per_unit_with_its_qr_and_text(client, labelled):
    body, rows = run_of(client, labelled, 4, "tspl")
    text = client.get(f"/api/v1/label-runs/{body['id']}.tspl", headers=labelled.headers).get_data(as_text=True)
    assert text.startswith("SIZE 50 mm,30 mm\r\n")
    assert text.count("PRINT 1,1\r\n") == 4
    for row in rows:
        assert f'QRCODE 16,16,M,4,A,0,"{row["uri"]}"\r\n' in text
        assert f'"{row["serial"]}"' in text and f'"PIN {row["pin"]}"' in text


def test_zpl_escapes_what_would_end_a_field():
    face = sheets.LabelFace("https://x.cn/u/1", "1", "12345678")
    zpl = sheets.render_zpl("Tea", "A^B~C_D", [face]).decode()
    assert "^FDLOT A_5EB_7EC_5FD^FS" in zpl


def test_the_units_csv_is_what_the_printing_house_needs(client, labelled):
    _, rows = run_of(client, labelled, 3, "a4_40")
    assert list(rows[0]) == ["seq", "serial", "uri", "pin"]
    assert len(make_units(client, labelled, 2)) == 2
