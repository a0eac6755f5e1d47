"""The party's remedies and the court window (N15, N32; 行政复议法 (2023) Art. 20, 行政诉讼法
Art. 45-46, 行政强制法 Art. 53): the authority asks the court to enforce only when the party
neither sought review nor sued within the periods. A pending review or lawsuit stops it; a
review decision leaves 15 days to sue, after which N15's 3 months run; a final judgment that
upholds the decision is enforced as such; a decision that did not state the remedies gives
the party 1 year to sue (⚠ 行政诉讼法解释 Art. 64)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.cases.facts import CaseFacts
from core.cases.models import Record
from core.cases.periods import _rules, appeal_period_end
from core.kernel.errors import GateRefused
from core.kernel.settings import Settings
from core.rules.calendar import end_of_legal_day, legal_date


def _figures(f: CaseFacts) -> Settings:
    """The N32 figures in force (REMEDY_* settings, ⚠)."""
    return getattr(f.calendar, "settings", None) or Settings()


def _litigation_months(f: CaseFacts, decision: Record) -> int | None:
    if decision.fields.get("remedies_stated") is False:
        return _figures(f).remedy_unstated_months
    return decision.fields.get("litigation_period_months")


def appeal_end(f: CaseFacts, decision: Record, served: datetime) -> date:
    """The last day the party may still seek review or sue, the remedies not stated included."""
    return appeal_period_end(f.calendar, served, decision.fields.get("review_period_days"),
                             _litigation_months(f, decision))


def _results(f: CaseFacts, decision: Record) -> list[tuple[Record, Record | None]]:
    apps = [a for a in f.of_type("remedy_application")
            if a.fields.get("decision_id") == decision.id]
    out = []
    for a in sorted(apps, key=lambda r: r.occurred_at):
        res = [r for r in f.of_type("remedy_result")
               if r.fields.get("remedy_application_id") == a.id]
        out.append((a, max(res, key=lambda r: r.occurred_at) if res else None))
    return out


def court_window(f: CaseFacts, decision: Record, served: datetime
                 ) -> tuple[date, date | None]:
    """First and last day to apply to the court (None: no N15 limit); GateRefused if the
    party's remedy stops it (N32)."""
    ended = appeal_end(f, decision, served)
    for app, res in _results(f, decision):
        kind = app.fields["remedy"]
        if res is None or res.fields.get("final") is not True:
            raise GateRefused(f"the party's {kind} is pending: no application to the court",
                              missing=["N32"], zh="当事人已申请行政复议或提起行政诉讼，结果未生效前"
                                                  "不得申请法院强制执行（N32）")
        outcome = res.fields["outcome"]
        if outcome == "revoked":
            raise GateRefused("the decision was revoked: nothing to enforce", missing=["N32"],
                              zh="原决定已被撤销，无可申请执行的内容（N32）")
        if outcome == "withdrawn":
            continue
        served_on = date.fromisoformat(res.fields["served_on"])
        if kind == "lawsuit":
            # Enforcement follows the judgment, not N15's window.
            return served_on + timedelta(days=1), None
        ended = max(ended, served_on + timedelta(
            days=_figures(f).remedy_sue_after_review_days))
    due = _rules(f.calendar).due_for("N15", end_of_legal_day(ended, f.calendar.tz), f.calendar)
    return ended + timedelta(days=1), due.last_day


def demand_warning(f: CaseFacts, decision: Record | None) -> dict:
    """Warn when a demand notice comes before the court may be asked (N15, N32)."""
    served = f.served_at(decision) if decision else None
    if decision is None or served is None:
        return {}
    try:
        first, _ = court_window(f, decision, served)
    except GateRefused as exc:
        return {"early_warning": f"{exc.zh or exc}"}
    today = legal_date(f.now, f.calendar.tz)
    if today < first:
        return {"early_warning": (
            f"复议、诉讼期限尚未届满，{first} 起方可申请法院强制执行；催告书送达十日后仍须在"
            f"申请期限内 / the court may be asked only from {first} (N15)")}
    return {}
