"""Disclosure copies (A35.1): third parties' ID and phone numbers and witnesses' names are
masked in the copy's PDFs (text extraction), the chosen photo area is blurred and nothing
else in the photo changes, the original stays untouched, and the copy is ledgered."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image, ImageChops, ImageDraw
from pypdf import PdfReader
from sqlalchemy import select

from core.archive.models import DisclosureCopy
from core.cases.models import Evidence
from tests.dossier.conftest import play_penalty_case
from tests.evidence.support import photo as make_photo
from tests.evidence.support import upload
from tests.helpers import auth
from tests.workflow.flow import WITNESSES

pytestmark = pytest.mark.slow
BOX = [20, 20, 90, 70]


def _text(data: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def test_a35_1_disclosure_copy_masks_third_parties_and_blurs_only_the_chosen_area(
        flow, container, tmp_path, app):
    """A35.1: a public copy of a played penalty case."""
    case = play_penalty_case(flow, tmp_path)
    # A photo with detail (stripes), its EXIF kept, so that blurring shows.
    (tmp_path / "p").mkdir()
    src = make_photo(tmp_path / "p", when=flow.clock.now())
    with Image.open(src) as im:
        exif = im.info["exif"]
        big = im.convert("RGB").resize((160, 120))
    draw = ImageDraw.Draw(big)
    for x in range(0, 160, 6):
        draw.line([(x, 0), (x, 120)], fill=(250, 250, 250), width=2)
    out = io.BytesIO()
    big.save(out, "JPEG", exif=exif, quality=95)
    r = upload(flow.client, flow.officer, case["id"], out.getvalue(), filename="pattern.jpg")
    assert r.status_code == 201, r.get_json()
    with container.uow() as uow:
        photo = uow.session.execute(select(Evidence).where(
            Evidence.case_id == case["id"], Evidence.media_type == "image/jpeg",
            Evidence.filename == "pattern.jpg")).scalars().first()
        photo_id, photo_sha = photo.id, photo.sha256
    keeper = flow.custodian()
    r = flow.post(f"/api/v1/cases/{case['id']}/disclosure-copies",
                  {"audience": "public", "blur": {photo_id: [BOX]}}, keeper)
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["masked_values"] > 0
    z = flow.client.get(f"/api/v1/disclosure-copies/{made['id']}/zip", headers=auth(keeper))
    assert z.status_code == 200
    data = z.get_data()
    z.close()
    zf = zipfile.ZipFile(io.BytesIO(data))
    text = _text(zf.read("front.pdf")) + _text(zf.read("volume.pdf"))
    assert "证据元数据表" in text and case["number"] in text  # the copy is the case file
    secrets = [w["id_number"] for w in WITNESSES] + [w["name"] for w in WITNESSES]
    secrets += ["13900000000", "91430600MA4L000000"]  # the party's, masked for the public
    assert [s for s in secrets if s in text.replace("\n", "")] == []

    # The photo: blurred inside the box, every other pixel as the original decodes.
    with container.blobs.open(photo_sha) as fh:
        original = Image.open(io.BytesIO(fh.read())).convert("RGB")
    copy = Image.open(io.BytesIO(zf.read(f"photos/{photo_id}.png"))).convert("RGB")
    assert copy.size == original.size
    diff = ImageChops.difference(original, copy)
    assert diff.getbbox() is not None
    x0, y0, x1, y1 = diff.getbbox()
    assert x0 >= BOX[0] and y0 >= BOX[1] and x1 <= BOX[2] and y1 <= BOX[3]
    # The original is untouched and the copy is on the ledger.
    assert container.blobs.rehash(photo_sha) == photo_sha
    with container.uow() as uow:
        row = uow.session.get(DisclosureCopy, made["id"])
        assert row.sha256 == made["sha256"] and row.blurred == {photo_id: [BOX]}
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
