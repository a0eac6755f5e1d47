"""A36.1: the compliance figures of a small fixed data set equal the figures worked out by
hand, per officer and per department, as JSON, CSV and a PDF report; only heads,
supervisors and auditors read them."""

from __future__ import annotations

import csv
import io
import subprocess
from shutil import which


def test_a36_1_figures_equal_the_hand_computed_ones(flow, people, metrics_data, app, tmp_path):
    """A36.1: per officer and per department for March 2026."""
    q = "/api/v1/metrics?from=2026-03-01&to=2026-03-31"
    r = flow.client.get(q, headers={"Authorization": f"Bearer {people['officer']['token']}"})
    assert r.status_code == 403
    head = people["head"]
    by_officer = {g["group"]: g for g in flow.get(q + "&group=officer", head)["groups"]}
    mine = by_officer[metrics_data["mine"]]
    assert mine["deadlines"]["A22.1"] == {"met": 2, "missed": 1, "open": 0, "median_days": 4.0}
    assert mine["upload_delays_a31_1"] == {"met": 0, "missed": 1, "open": 0,
                                           "median_days": None}
    assert mine["deadlines"]["A32.1"]["open"] == 1 and mine["late_archiving"] == 0
    assert mine["av_coverage"] == {"required": 2, "recorded": 1, "ratio": 0.5}
    assert mine["refusals_to_sign"] == 1
    # Each officer's one case, opened ex officio, still lacks its filing form (A10.1).
    assert mine["gate_gaps"] == {"initiation": {"A10.1": 1}}
    theirs = by_officer[metrics_data["theirs"]]
    assert theirs["deadlines"] == {"A22.1": {"met": 1, "missed": 0, "open": 0,
                                             "median_days": 1.0}}
    assert theirs["refusals_to_sign"] == 0 and theirs["av_coverage"]["required"] == 0
    [dept] = flow.get(q, head)["groups"]
    # Department: A22.1 days used 2, 4, 7 and 1 → median (2 + 4) / 2 = 3.
    assert dept["deadlines"]["A22.1"] == {"met": 3, "missed": 1, "open": 0, "median_days": 3.0}
    assert dept["gate_gaps"] == {"initiation": {"A10.1": 2}}
    # CSV carries the same figures.
    r = flow.client.get(q + "&format=csv", headers={"Authorization": f"Bearer {head['token']}"})
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    figures = {(x["metric"], x["rule"]): x["value"] for x in rows}
    assert figures[("deadline_met", "A22.1")] == "3"
    assert figures[("deadline_median_days", "A22.1")] == "3.0"
    assert figures[("refusals_to_sign", "A22.2")] == "1"
    assert figures[("missing_at_initiation", "A10.1")] == "2"
    # The month's PDF report, every font embedded.
    out = tmp_path / "m.pdf"
    result = app.test_cli_runner().invoke(args=["metrics", "report", "--month", "2026-03",
                                                "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    if which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
