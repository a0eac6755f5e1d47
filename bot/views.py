"""Read-side helpers run inside a unit of work: case summaries, the checklist and the next
thing the rules still require (from core.cases.checklist, never decided here)."""

from __future__ import annotations

from datetime import datetime

from core.cases import lifecycle as case_service
from core.cases.checklist import checklist, load_facts, missing_for
from core.cases.models import Case, Party
from core.cases.next_actions import dossier_actions
from core.rules.catalogue import Field

from .texts import choice_name, kind_name, route_name, rule_item, stage_name, t


def case_line(case: Case, lang: str) -> str:
    """One line naming a case, for a button or a list."""
    return f"{case.number} {case.title[:24]} · {stage_name(case.stage, lang)}"


def case_summary(case: Case, lang: str) -> str:
    """The active-case header."""
    return t(lang, "case_active", number=case.number, title=case.title,
             kind=kind_name(case.kind, lang), route=route_name(case.initiation, lang),
             stage=stage_name(case.stage, lang))


def next_steps_of(uow, case: Case, lang: str, facts=None) -> str:
    """What the rules still require of the case's current stage, with article IDs."""
    if case.stage == "closed":
        return t(lang, "next_closed")
    facts = facts or load_facts(uow.session, case)
    missing = missing_for(facts, case.stage)
    if missing:
        sep = "; " if lang == "en" else "；"
        seen, items = set(), []
        for r in missing:
            if (r.id, r.text_zh) not in seen:
                seen.add((r.id, r.text_zh))
                items.append(rule_item(r.id, lang, r.text_zh, r.text_en))
        lines = [t(lang, "next_missing", items=sep.join(items))]
        # A32.1: who compiles the case file and who accepts it (core.cases.next_actions).
        lines += [t(lang, "next_dossier", what=a.text if lang == "en" else a.text_zh,
                    who=t(lang, f"who_{a.kind}")) for a in dossier_actions(facts, None)]
        return "\n".join(lines)
    nxt = case_service.next_stages(case)
    return t(lang, "next_ready", next=stage_name(nxt[0], lang)) if nxt else t(lang, "next_closed")


def next_steps(uow, actor, case_id: str, lang: str) -> str:
    """The next-steps line for a case the officer may see."""
    case = case_service.get_case(uow, actor, case_id, channel="telegram")
    return next_steps_of(uow, case, lang)


def checklist_text(uow, actor, case_id: str, lang: str) -> str:
    """The current stage's requirements with their status, then the next step."""
    case = case_service.get_case(uow, actor, case_id, channel="telegram")
    lines = [t(lang, "checklist_head", number=case.number, stage=stage_name(case.stage, lang))]
    facts = None
    if case.stage != "closed":
        facts = load_facts(uow.session, case)
        for item in checklist(facts).get(case.stage, []):
            if item["status"] == "not_applicable":
                continue
            mark = "✅" if item["status"] == "done" else "⬜"
            lines.append(f"{mark} " + rule_item(item["id"], lang, item["text_zh"], item["text"]))
            lines += [f"   · {d}" for d in (item.get("detail") or [])[:3]]
    lines.append(next_steps_of(uow, case, lang, facts))
    return "\n".join(lines)


def party_text(party: Party | None) -> str:
    """The party's name and ID number, as a default for form fields about the party."""
    if party is None:
        return ""
    return f"{party.name}（{party.id_number}）" if party.id_number else party.name


def show_value(f: Field, value: object, lang: str) -> str:
    """A field value as the summary shows it."""
    if isinstance(value, bool):
        return t(lang, "yes" if value else "no")
    if isinstance(value, list):
        return "、".join(value) if lang == "zh" else ", ".join(value)
    if f.type == "enum":
        return choice_name(str(value), lang, f.name)
    if f.type == "datetime" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return str(value)
