"""Approval requests and answers (A10.1: officer → unit → head), queued in the outbox in the
transaction of the step, whichever front took it: the next approvers get the request with
approve and return buttons; the submitter hears each step, the end, or the return and why.
A failed send is retried by the outbox, never lost."""

from __future__ import annotations

from core.cases.checklist import load_facts, missing_for
from core.cases.lifecycle import next_stages
from core.cases.models import Approval, Record
from core.cases.records import ChainState, chain_state
from core.kernel import texts
from core.kernel.clock import utcnow
from core.notices.outbox import insert_outbox_if_absent, officer_outbox_rows
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.catalogue import BY_NAME

TEXT = {
    "request": ("📝 待审批：{title}\n案件：{number} {case_title}\n{lines}\n已完成：{done}\n"
                "请您：{step}",
                "📝 Approval needed: {title}\nCase: {number} {case_title}\n{lines}\n"
                "Done so far: {done}\nYour step: {step}"),
    "progress": ("{title}（{number}）：{who} 已同意（{step}）。",
                 "{title} ({number}): {who} approved ({step})."),
    "complete": ("✅ {title}（{number}）审批完成。\n{next}",
                 "✅ {title} ({number}) is fully approved.\n{next}"),
    "returned": ("↩ {title}（{number}）被 {who} 退回（{step}）。理由：{reason}\n请修改后重新提交。",
                 "↩ {title} ({number}) was returned by {who} ({step}). Reason: {reason}\n"
                 "Correct it and submit it again."),
    "next_missing": ("下一步还缺：{items}", "Still missing: {items}"),
    "next_ready": ("本阶段已齐全，可进入“{next}”。",
                   "This stage is complete; it may move to “{next}”."),
    "approve": ("✅ 同意", "✅ Approve"),
    "return": ("↩ 退回", "↩ Return"),
    "agree": ("同意", "approved"),
    "disagree": ("退回", "returned"),
}


def _t(key: str, lang: str, **kw) -> str:
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**kw)


def _title(record: Record, lang: str) -> str:
    rtype = BY_NAME[record.type]
    return rtype.title_en if lang == "en" else rtype.title_zh


def _step(chain: ChainState, step: str, lang: str) -> str:
    found = next((s for s in chain.rtype.approval_chain if s.step == step), None)
    if found is None:
        return step
    return found.step if lang == "en" else found.label_zh


def _value(value: object, field: str, lang: str) -> str:
    if isinstance(value, bool):
        return ("yes" if value else "no") if lang == "en" else ("是" if value else "否")
    if isinstance(value, list):
        return ("、" if lang != "en" else ", ").join(str(v) for v in value)
    if isinstance(value, str) and texts.known_choice(value):
        return texts.choice(value, lang, field)
    return str(value)


def request_text(chain: ChainState, lang: str) -> str:
    """The approval request as its recipient reads it: the form, the steps so far, theirs."""
    record, rtype, case = chain.record, chain.rtype, chain.case
    lines = [f"{f.name if lang == 'en' else f.label_zh}: "
             f"{_value(record.fields[f.name], f.name, lang)}"
             for f in rtype.fields if f.name in record.fields]
    sep = "; " if lang == "en" else "；"
    done = sep.join(f"{_step(chain, a.step, lang)} {name} "
                    f"{_t('agree' if a.decision == 'approve' else 'disagree', lang)}"
                    for a, name in chain.done) or "—"
    return _t("request", lang, title=_title(record, lang), number=case.number,
              case_title=case.title, lines="\n".join(lines), done=done,
              step=_step(chain, chain.next_step.step, lang))


def next_text(uow: UnitOfWork, chain: ChainState, lang: str) -> str:
    """What the case's stage still lacks, or that it may move on (core.cases.checklist)."""
    case = chain.case
    missing = missing_for(load_facts(uow.session, case), case.stage)
    if missing:
        sep = "; " if lang == "en" else "；"
        seen, items = set(), []
        for r in missing:
            words = r.text_en if lang == "en" else r.text_zh
            if (r.id, words) not in seen:
                seen.add((r.id, words))
                items.append(f"{words} ({r.id})" if lang == "en" else f"{words}（{r.id}）")
        return _t("next_missing", lang, items=sep.join(items))
    nxt = next_stages(case)
    return _t("next_ready", lang, next=texts.label("stage", nxt[0], lang)) if nxt else ""


def _buttons(record: Record, lang: str) -> list[list[dict]]:
    return [[{"text": _t("approve", lang), "data": f"ap:{record.id}:a"},
             {"text": _t("return", lang), "data": f"ap:{record.id}:r"}]]


def _to(officer: Officer, chain: ChainState, key: str, body: str, event: str, **payload
        ) -> list[dict]:
    # No subject: the Telegram channel would print it above a body that already says it all.
    return officer_outbox_rows(
        officer, chain.case, key, "", body,
        {"event": event, "record_id": chain.record.id, "lang": officer.lang or "zh", **payload},
        utcnow())


def _requests(chain: ChainState) -> list[dict]:
    """The request to everyone who may take the next step."""
    rows = []
    for officer in chain.candidates:
        lang = officer.lang or "zh"
        rows += _to(officer, chain, f"approval:{chain.record.id}:{chain.next_step.step}:"
                    f"{officer.id}", request_text(chain, lang), "approval.requested",
                    buttons=_buttons(chain.record, lang))
    return rows


def _answer(uow: UnitOfWork, chain: ChainState, approval: Approval, who: str) -> list[dict]:
    """The submitter hears the step taken: progress, the end, or the return."""
    submitter = chain.submitter
    if submitter is None or not submitter.active or submitter.id == approval.officer_id:
        return []
    lang = submitter.lang or "zh"
    kw = {"title": _title(chain.record, lang), "number": chain.case.number, "who": who,
          "step": _step(chain, approval.step, lang)}
    if approval.decision == "return":
        body = _t("returned", lang, reason=approval.opinion, **kw)
    elif chain.complete:
        body = _t("complete", lang, next=next_text(uow, chain, lang), **kw).rstrip()
    else:
        body = _t("progress", lang, **kw)
    return _to(submitter, chain, f"approval:{approval.id}:submitter", body,
               f"approval.{approval.decision}")


def handle_event(uow: UnitOfWork, event: Event) -> None:
    """Queue approval requests when a record with a chain is made or a step is taken."""
    record_id = event.data.get("record_id")
    if not event.case_id or not isinstance(record_id, str):
        return
    if event.name == "approval.taken":
        record = uow.session.get(Record, record_id)
        approval = uow.session.get(Approval, event.data.get("approval_id"))
        if record is None or approval is None:
            return
        chain = chain_state(uow, record)
        who = {a.id: name for a, name in chain.done}.get(approval.id, "?")
        rows = _answer(uow, chain, approval, who)
        if chain.next_step is not None and approval.decision == "approve":
            rows += _requests(chain)
        insert_outbox_if_absent(uow.session, rows)
    elif event.name.startswith("record.") and event.name.endswith(".created"):
        rtype = BY_NAME.get(event.name[len("record."):-len(".created")])
        if rtype is None or not rtype.approval_chain:
            return
        record = uow.session.get(Record, record_id)
        if record is None:
            return
        chain = chain_state(uow, record)
        if chain.next_step is not None:
            insert_outbox_if_absent(uow.session, _requests(chain))
