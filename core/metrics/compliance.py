"""A36.1 figures for a period, per department or per officer (the case's opening officer):
deadlines met and missed per rule with the median days used, AV coverage where the catalogue
requires it, A31.1 upload delays, refusals to sign, late archiving (A32.1), complaint
handling (N21, N24), and what cases not yet closed still miss at their stage's gate. Every
figure comes from ledger-covered rows; a deadline is "missed" when it closed after its due
time or is still open past it, "met" when it closed in time."""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from core.cases.checklist import load_facts, missing_for
from core.cases.models import Case, Evidence, Record, Refusal
from core.deadlines.models import Deadline
from core.kernel.clock import utcnow
from core.kernel.errors import Invalid
from core.people.access import CROSS_DEPARTMENT, has_role, log_access, require_role
from core.people.models import Department, Officer
from core.rules.calendar import LEGAL_TZ, end_of_legal_day
from core.rules.catalogue import BY_NAME

GROUPS = ("department", "officer")
READERS = ("head", "supervisor", "auditor", "admin")


def may_read(roles) -> bool:
    """Whether holders of these roles may read the A36.1 figures (fronts hide what they cannot)."""
    return bool(set(roles or ()) & set(READERS))
COMPLAINT_RULES = ("N21", "N24")
MONTH = re.compile(r"\d{4}-\d{2}")
AV_MEDIA = ("video/", "audio/")


@dataclass(frozen=True)
class MetricsQuery:
    """A period of legal days [start, end] and the grouping."""

    start: date
    end: date
    group: str = "department"

    @classmethod
    def parse(cls, args) -> MetricsQuery:
        """From query arguments from=YYYY-MM-DD&to=YYYY-MM-DD (or month=YYYY-MM instead of
        both) &group=department|officer."""
        month = (args.get("month") or "").strip()
        if month and not args.get("from") and not args.get("to"):
            if not MONTH.fullmatch(month):
                raise Invalid("month is a month (YYYY-MM)", zh="month 须为月份（YYYY-MM）")
            try:
                whole = cls.month(month)
            except (ValueError, OverflowError):  # 2026-13, 9999-12 (no next month)
                raise Invalid("month is a month (YYYY-MM)",
                              zh="month 须为月份（YYYY-MM）") from None
            args = {"from": whole.start.isoformat(), "to": whole.end.isoformat(),
                    "group": args.get("group")}
        try:
            start = date.fromisoformat(args.get("from") or "")
            end = date.fromisoformat(args.get("to") or "")
        except ValueError:
            raise Invalid("from and to are dates (YYYY-MM-DD)",
                          zh="from 和 to 须为日期（YYYY-MM-DD）") from None
        group = args.get("group") or "department"
        if group not in GROUPS:
            raise Invalid("group is department or officer", zh="group 须为 department 或 officer")
        if end < start:
            raise Invalid("to is not before from", zh="to（截止日期）不得早于 from（起始日期）")
        return cls(start, end, group)

    @classmethod
    def month(cls, text: str, group: str = "department") -> MetricsQuery:
        """A calendar month, e.g. 2026-11."""
        first = date.fromisoformat(f"{text}-01")
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return cls(first, nxt - timedelta(days=1), group)


def _bounds(q: MetricsQuery) -> tuple[datetime, datetime]:
    start = datetime.combine(q.start, datetime.min.time(), LEGAL_TZ)
    return start, end_of_legal_day(q.end, LEGAL_TZ)


def figures(session, q: MetricsQuery, *, department_id: str | None = None,
            now: datetime | None = None) -> dict:
    """The figures of the period, per group (all departments when department_id is None)."""
    now = now or utcnow()
    lo, hi = _bounds(q)
    cases_q = select(Case)
    if department_id:
        cases_q = cases_q.where(Case.department_id == department_id)
    cases = {c.id: c for c in session.execute(cases_q).scalars()}
    key_of = {cid: (c.department_id if q.group == "department" else c.opened_by)
              for cid, c in cases.items()}
    names = _names(session, q.group, set(key_of.values()))
    groups: dict[str, dict] = defaultdict(_empty)

    for d in session.execute(select(Deadline).where(
            Deadline.case_id.in_(list(cases)), Deadline.due_at >= lo, Deadline.due_at <= hi,
            Deadline.status != "cancelled")).scalars():
        g = groups[key_of[d.case_id]]
        rule = g["deadlines"].setdefault(d.rule_id, {"met": 0, "missed": 0, "open": 0,
                                                      "days": []})
        if d.status == "closed":
            rule["met" if d.closed_at <= d.due_at else "missed"] += 1
            rule["days"].append((d.closed_at - d.trigger_at).total_seconds() / 86400)
        elif now > d.due_at:
            rule["missed"] += 1
        else:
            rule["open"] += 1

    av_types = {n for n, t in BY_NAME.items() if t.av_required}
    records = list(session.execute(select(Record).where(
        Record.case_id.in_(list(cases)), Record.occurred_at >= lo, Record.occurred_at <= hi,
        Record.type.in_(av_types))).scalars()) if av_types else []
    with_av = set(session.execute(select(Evidence.record_id).where(
        Evidence.record_id.in_([r.id for r in records]),
        Evidence.media_type.like("video/%") | Evidence.media_type.like("audio/%"))).scalars())
    for r in records:
        g = groups[key_of[r.case_id]]
        g["av"]["required"] += 1
        g["av"]["recorded"] += r.id in with_av or bool(r.fields.get("av_unsuitable_reason"))

    for x in session.execute(select(Refusal).where(
            Refusal.case_id.in_(list(cases)), Refusal.at >= lo, Refusal.at <= hi,
            Refusal.refused == "sign")).scalars():
        groups[key_of[x.case_id]]["refusals_to_sign"] += 1

    # Records missing at each gate: what every case not yet closed still lacks to leave its
    # stage, as of now (the checklist's requirements, A3.1).
    for case in cases.values():
        if case.stage == "closed":
            continue
        facts = load_facts(session, case, now)
        for req in missing_for(facts, case.stage):
            gaps = groups[key_of[case.id]]["gate_gaps"].setdefault(case.stage, {})
            gaps[req.id] = gaps.get(req.id, 0) + 1

    out = []
    for key in sorted(groups):
        g = groups[key]
        rules = {}
        for rid in sorted(g["deadlines"]):
            r = g["deadlines"][rid]
            rules[rid] = {"met": r["met"], "missed": r["missed"], "open": r["open"],
                          "median_days": round(statistics.median(r["days"]), 2)
                          if r["days"] else None}
        av = g["av"]
        out.append({
            "group": key, "name": names.get(key, key), "deadlines": rules,
            "av_coverage": {"required": av["required"], "recorded": av["recorded"],
                            "ratio": round(av["recorded"] / av["required"], 4)
                            if av["required"] else None},
            "upload_delays_a31_1": rules.get("A31.1", {"met": 0, "missed": 0, "open": 0,
                                                       "median_days": None}),
            "refusals_to_sign": g["refusals_to_sign"],
            "gate_gaps": {st: dict(sorted(v.items())) for st, v in g["gate_gaps"].items()},
            "late_archiving": rules.get("A32.1", {}).get("missed", 0),
            "complaint_handling": {rid: rules[rid] for rid in COMPLAINT_RULES if rid in rules},
        })
    return {"from": q.start.isoformat(), "to": q.end.isoformat(), "group": q.group,
            "rule": "A36.1", "groups": out}


def _empty() -> dict:
    return {"deadlines": {}, "av": {"required": 0, "recorded": 0}, "refusals_to_sign": 0,
            "gate_gaps": {}}


def _names(session, group: str, keys: set[str]) -> dict[str, str]:
    if not keys:
        return {}
    model = Department if group == "department" else Officer
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(keys))).all())


def compute(uow, actor: Officer, q: MetricsQuery, *, channel: str = "api",
            remote: str = "") -> dict:
    """The figures an officer may see: their department's (auditors: all); logged (A33.1)
    with the front that asked (the API, the desk)."""
    require_role(actor, *READERS, action="reading the compliance metrics")
    dept = None if has_role(actor, *CROSS_DEPARTMENT) else actor.department_id
    log_access(uow.session, actor, "read", "metrics", dept or "*", channel=channel,
               remote=remote)
    return figures(uow.session, q, department_id=dept)


def to_csv(data: dict) -> str:
    """One line per figure: group, name, metric, rule, value."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["from", "to", "group", "name", "metric", "rule", "value"])
    for g in data["groups"]:
        head = [data["from"], data["to"], g["group"], g["name"]]
        for rid, r in g["deadlines"].items():
            for k in ("met", "missed", "open", "median_days"):
                w.writerow([*head, f"deadline_{k}", rid, "" if r[k] is None else r[k]])
        av = g["av_coverage"]
        w.writerow([*head, "av_required", "", av["required"]])
        w.writerow([*head, "av_recorded", "", av["recorded"]])
        w.writerow([*head, "refusals_to_sign", "A22.2", g["refusals_to_sign"]])
        w.writerow([*head, "late_archiving", "A32.1", g["late_archiving"]])
        for stage, gaps in g["gate_gaps"].items():
            for rid, n in gaps.items():
                w.writerow([*head, f"missing_at_{stage}", rid, n])
    return buf.getvalue()


def _chart(g: dict) -> bytes:
    """An SVG bar chart of met and missed deadlines per rule (WeasyPrint draws it)."""
    rules = list(g["deadlines"].items())
    top = max([r["met"] + r["missed"] for _k, r in rules] or [1]) or 1
    width, bar = 520, 22
    rows = []
    for i, (rid, r) in enumerate(rules):
        y = 10 + i * (bar + 8)
        met_w = 380 * r["met"] / top
        miss_w = 380 * r["missed"] / top
        rows.append(f'<text x="0" y="{y + 15}" font-size="11">{rid}</text>'
                    f'<rect x="60" y="{y}" width="{met_w:.1f}" height="{bar}" fill="#4a7"/>'
                    f'<rect x="{60 + met_w:.1f}" y="{y}" width="{miss_w:.1f}" height="{bar}" '
                    f'fill="#c44"/><text x="{66 + met_w + miss_w:.1f}" y="{y + 15}" '
                    f'font-size="11">{r["met"]} / {r["missed"]}</text>')
    height = 20 + len(rules) * (bar + 8)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="Noto Sans CJK SC">{"".join(rows)}</svg>').encode()


def report_pdf(data: dict, *, title: str = "行政执法考核评议统计（A36.1）") -> bytes:
    """The figures as an archival PDF: a table and a met/missed chart per group."""
    from core.dossier.pages import Images, Pairs, Sheet, Table
    from core.dossier.pdf import PdfRenderer

    sheets = []
    for g in data["groups"]:
        av = g["av_coverage"]
        blocks = [Pairs([("期间", f"{data['from']} 至 {data['to']}"), ("对象", g["name"]),
                         ("音像记录覆盖", f"{av['recorded']}/{av['required']}"),
                         ("拒绝签名", str(g["refusals_to_sign"])),
                         ("逾期归档（A32.1）", str(g["late_archiving"])),
                         ("各环节缺失", "；".join(f"{st}: {rid}×{n}" for st, v in
                                             g["gate_gaps"].items() for rid, n in v.items())
                          or "—")]),
                  Table(("规则", "按期", "逾期", "未到期", "用时中位数（日）"),
                        [(rid, str(r["met"]), str(r["missed"]), str(r["open"]),
                          "—" if r["median_days"] is None else str(r["median_days"]))
                         for rid, r in g["deadlines"].items()], heading="期限执行情况")]
        if g["deadlines"]:
            blocks.append(Images([("绿：按期　红：逾期", "image/svg+xml", _chart(g))],
                                 heading="按规则统计"))
        sheets.append(Sheet(title, blocks, subtitle=g["name"]))
    if not sheets:
        sheets.append(Sheet(title, [Pairs([("期间", f"{data['from']} 至 {data['to']}"),
                                           ("说明", "本期无数据")])]))
    return PdfRenderer().render_part(sheets).data
