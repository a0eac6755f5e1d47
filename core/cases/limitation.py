"""The limitation on penalties (N11, 行政处罚法 (2021) Art. 36): a violation not discovered
within 2 years of when it happened, or ended if it continued, is not penalised; 5 years where
it endangered life, health or financial security with harmful results. Counted on calendar
years; a 29 February start ends on 28 February (民法典 Art. 202, month-end clamping)."""

from __future__ import annotations

from datetime import date

from core.cases.facts import CaseFacts
from core.cases.models import Case, Record
from core.rules.calendar import legal_date

YEARS, HARM_YEARS = 2, 5


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def ends_on(fields: dict) -> date | None:
    """The last day on which discovery still allows a penalty, or None when no date is given."""
    start = fields.get("violation_date")
    if fields.get("violation_continuing") and fields.get("violation_ended_on"):
        start = fields["violation_ended_on"]
    if not start:
        return None
    years = HARM_YEARS if fields.get("serious_harm") else YEARS
    return _plus_years(date.fromisoformat(start), years)


def discovered_on(case: Case, fields: dict, tz) -> date:
    """When the violation was discovered: the stated day, else the day the case was opened."""
    if fields.get("discovered_on"):
        return date.fromisoformat(fields["discovered_on"])
    return legal_date(case.opened_at, tz)


def filing_fields(case: Case, fields: dict, tz) -> dict:
    """N11 when the dates are recorded (with the filing): the limitation's last day, and a
    warning when discovery came later."""
    last = ends_on(fields)
    if last is None:
        return {}
    out: dict = {"limitation_ends_on": last.isoformat()}
    found = discovered_on(case, fields, tz)
    if found > last:
        years = HARM_YEARS if fields.get("serious_harm") else YEARS
        out["limitation_warning"] = (
            f"违法行为 {found} 被发现，已超过{years}年追责时效（{last} 届满），不得给予行政处罚"
            f"（行政处罚法第三十六条）/ discovered after the {years}-year limitation ended "
            f"{last}: no penalty (N11)")
    return out


def _dated(f: CaseFacts) -> Record | None:
    dated = [r for r in f.of_type("violation_period") if r.fields.get("violation_date")]
    return max(dated, key=lambda r: r.occurred_at) if dated else None


def limitation_known(f: CaseFacts) -> bool:
    """A penalty case whose violation_period record gives the violation's date."""
    return f.case.kind == "penalty" and _dated(f) is not None


def within_limitation(f: CaseFacts) -> bool:
    """N11: the violation was discovered before the limitation ended."""
    r = _dated(f)
    last = ends_on(r.fields) if r else None
    return last is None or discovered_on(f.case, r.fields, f.calendar.tz) <= last


def limitation_detail(f: CaseFacts) -> list[str]:
    """Why the penalty is barred."""
    r = _dated(f)
    return [r.fields.get("limitation_warning") or "N11"] if r else []
