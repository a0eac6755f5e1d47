"""A36.1 on the supervisor's desk (issue 14, Metrics): /desk/metrics shows exactly what
core.metrics.compliance.compute returns for the fixed data set of tests/archive/conftest.py,
as SVG charts with data tables, per department and per officer; a supervisor of another
department sees none of it; a bad period is a Chinese sentence (422), never a 500; the read is
access-logged (A33.1) like the API's; CSV and PDF come through the desk session."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select

from core.metrics import compliance
from core.people.models import AccessLog, Officer
from tests.deadlines.support import stranger
from tests.helpers import open_case
from tests.pages.support import complaint_ticket, sign_in

MARCH = "from=2026-03-01&to=2026-03-31"


class Tables(HTMLParser):
    """Every <table> of a page by its id: rows of cell texts (th and td alike)."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _computed(container, officer_id: str, query: str) -> dict:
    """What core computes for this officer (the same call as the page and the API)."""
    args = dict(part.split("=", 1) for part in query.split("&"))
    with container.uow() as uow:
        actor = uow.session.get(Officer, officer_id)
        return compliance.compute(uow, actor, compliance.MetricsQuery.parse(args))


def _sections(html: str) -> list[str]:
    """The group ids of the page's sections, in order."""
    return re.findall(r'<section class="metrics-group card" [^>]*data-group="([^"]+)"', html)


def _assert_page_shows(html: str, data: dict) -> None:
    """Every figure of every group of ``data`` is in the page's tables, and nothing else."""
    tables = Tables(html).tables
    assert _sections(html) == [g["group"] for g in data["groups"]]
    for i, g in enumerate(data["groups"], start=1):
        rows = tables[f"g{i}-deadline-table"][1:] if g["deadlines"] else []
        shown = {r[0].split()[0]: r[1:] for r in rows}
        assert shown == {rid: [str(r["met"]), str(r["missed"]), str(r["open"]),
                               "—" if r["median_days"] is None else str(r["median_days"])]
                         for rid, r in g["deadlines"].items()}
        figures = {r[-1]: r[1] for r in tables[f"g{i}-figure-table"][1:]}
        av, up = g["av_coverage"], g["upload_delays_a31_1"]
        assert figures["A15.1"] == (f"{av['recorded']}/{av['required']}"
                                    f"（{av['ratio'] * 100:.0f}%）" if av["required"] else "—")
        assert figures["A31.1"].startswith(
            f"按期 {up['met']} · 逾期 {up['missed']} · 未到期 {up['open']}")
        assert figures["A22.2"] == f"{g['refusals_to_sign']} 次"
        assert figures["A32.1"] == f"{g['late_archiving']} 次"
        gaps = {(r[0], r[1].split()[0]): r[2] for r in tables.get(f"g{i}-gap-table", [])[1:]}
        assert len(gaps) == sum(len(v) for v in g["gate_gaps"].values())
        assert sorted(gaps.values()) == sorted(str(n) for v in g["gate_gaps"].values()
                                               for n in v.values())
        # The chart says the same in its <desc> (what a screen reader reads).
        desc = re.search(rf'<desc id="g{i}-deadlines-d">(.*?)</desc>', html, re.S)
        for rid, r in g["deadlines"].items():
            assert f"{rid} " in desc.group(1)
            assert f"按期 {r['met']} · 逾期 {r['missed']} · 未到期 {r['open']}" in desc.group(1)


def test_a36_1_desk_metrics_equal_compute(client, container, people, metrics_data):
    """A36.1: per officer and per department for March 2026 the page shows compute()'s
    figures (the hand-checked ones of test_metrics), charts with <title>/<desc>, Chinese by
    default; the read is logged like the API's (A33.1)."""
    sign_in(client, container, people["supervisor"]["id"])
    page = client.get(f"/desk/metrics?{MARCH}&group=officer")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    data = _computed(container, people["supervisor"]["id"], f"{MARCH}&group=officer")
    assert len(data["groups"]) == 2
    _assert_page_shows(html, data)
    mine = Tables(html).tables["g" + str(_sections(html).index(metrics_data["mine"]) + 1)
                               + "-deadline-table"]
    assert ["A22.1 陈述申辩期限", "2", "1", "0", "4.0"] in mine  # as worked out by hand
    assert html.count('<svg class="chart-svg"') >= 2 * 4 and 'role="img"' in html
    assert "考核评议统计" in html and "<script" not in html.replace(
        '<script src="/static/js/site.js', "")

    by_dept = client.get(f"/desk/metrics?{MARCH}").get_data(as_text=True)
    _assert_page_shows(by_dept, _computed(container, people["supervisor"]["id"], MARCH))
    assert people["department"]["name"] in by_dept
    # A month is the same period as its first and last day.
    assert _sections(client.get("/desk/metrics?month=2026-03&group=officer").get_data(
        as_text=True)) == [g["group"] for g in data["groups"]]
    assert "Compliance metrics" in client.get(f"/desk/metrics?{MARCH}&lang=en").get_data(
        as_text=True)
    with container.uow() as uow:
        logged = uow.session.execute(select(AccessLog).where(
            AccessLog.officer_id == people["supervisor"]["id"],
            AccessLog.subject_type == "metrics", AccessLog.channel == "web")).scalars().all()
    assert logged and {a.action for a in logged} == {"read"}


def test_a36_1_desk_metrics_csv_and_pdf_through_the_session(client, container, people,
                                                           metrics_data):
    """A36.1: the CSV link of the page gives core's to_csv of the same figures; the PDF link
    the archival report; both need the desk session."""
    assert client.get(f"/desk/metrics.csv?{MARCH}").status_code == 302
    sign_in(client, container, people["head"]["id"])
    html = client.get(f"/desk/metrics?{MARCH}").get_data(as_text=True)
    href = re.search(r'href="(/desk/metrics\.csv\?[^"]+)" id="csv-link"', html).group(1)
    href = href.replace("&amp;", "&")
    r = client.get(href)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.get_data(as_text=True) == compliance.to_csv(
        _computed(container, people["head"]["id"], MARCH))
    assert "attachment" in r.headers["Content-Disposition"]
    pdf = re.search(r'href="(/desk/metrics\.pdf\?[^"]+)" id="pdf-link"', html).group(1)
    r = client.get(pdf.replace("&amp;", "&"))
    assert r.status_code == 200 and r.get_data().startswith(b"%PDF")


def test_a36_1_another_departments_supervisor_sees_none_of_it(client, container, people,
                                                              metrics_data):
    """A36.1, A33.1: a supervisor of another department reads only their own department's
    figures: none of this department's groups, names or numbers; a plain officer is refused."""
    outsider = stranger(container)
    sign_in(client, container, outsider["id"])
    for group in ("department", "officer"):
        html = client.get(f"/desk/metrics?{MARCH}&group={group}").get_data(as_text=True)
        assert _sections(html) == [] and 'id="metrics-empty"' in html
        assert people["department"]["name"] not in html
        assert people["officer"]["name"] not in html and metrics_data["mine"] not in html
    csv_text = client.get(f"/desk/metrics.csv?{MARCH}&group=officer").get_data(as_text=True)
    assert csv_text.splitlines() == ["from,to,group,name,metric,rule,value"]

    officer_client = client.application.test_client()
    sign_in(officer_client, container, people["officer"]["id"])
    refused = officer_client.get(f"/desk/metrics?{MARCH}")
    assert refused.status_code == 403 and "考核评议统计" not in refused.get_data(as_text=True)
    # The tab is shown only to the metrics' readers: the officer's desk has none, the
    # outsider supervisor's desk has it.
    assert 'href="/desk/metrics"' not in officer_client.get("/desk").get_data(as_text=True)
    assert 'href="/desk/metrics"' in client.get("/desk").get_data(as_text=True)


def test_a36_1_bad_period_is_a_chinese_sentence_not_a_500(client, container, people, clock):
    """A bad from/to/month/group: 422, the form again with the period's fields and a Chinese
    sentence naming what is wrong; no period at all: this legal month; signed out: sign-in."""
    assert client.get("/desk/metrics?from=x").status_code == 302
    sign_in(client, container, people["supervisor"]["id"])
    for query, said in (("from=2026-13-01&to=2026-03-31", "from 和 to 须为日期"),
                        ("from=2026-03-31&to=2026-03-01", "to（截止日期）不得早于 from"),
                        ("from=2026-03-01", "from 和 to 须为日期"),
                        ("month=2026-3", "month 须为月份"), ("month=9999-12", "month 须为月份"),
                        ("month=2026-03&group=team", "group 须为 department 或 officer")):
        r = client.get(f"/desk/metrics?{query}")
        html = r.get_data(as_text=True)
        assert r.status_code == 422, query
        assert "统计期间填写有误" in html and said in html, query
        assert 'id="m-month"' in html and 'id="m-from"' in html  # the form, to try again
    from datetime import datetime

    from core.rules.calendar import LEGAL_TZ

    clock.set(datetime(2026, 2, 1, 0, 30, tzinfo=LEGAL_TZ))  # still 31 January in UTC
    html = client.get("/desk/metrics").get_data(as_text=True)
    assert "2026-02-01 至 2026-02-28" in html and 'value="2026-02"' in html


def test_a36_1_complaint_handling_on_the_desk(client, container, people):
    """A36.1, N21: a complaint registered on 30 September 2026 and never decided is a missed
    N21 deadline; the Metrics pane's complaint chart and table say what compute() says."""
    case = open_case(client, people["officer"], initiation="complaint")
    complaint_ticket(container, people["officer"]["id"], case["id"])
    query = "from=2026-09-01&to=2026-12-31"
    data = _computed(container, people["supervisor"]["id"], query)
    [group] = data["groups"]
    assert group["complaint_handling"]["N21"]["missed"] == 1
    sign_in(client, container, people["supervisor"]["id"])
    html = client.get(f"/desk/metrics?{query}").get_data(as_text=True)
    _assert_page_shows(html, data)
    shown = {r[0].split()[0]: r[1:] for r in Tables(html).tables["g1-complaint-table"][1:]}
    assert shown == {rid: [str(r["met"]), str(r["missed"]), str(r["open"]),
                           "—" if r["median_days"] is None else str(r["median_days"])]
                     for rid, r in group["complaint_handling"].items()}
    assert 'id="g1-complaints"' in html  # its chart
