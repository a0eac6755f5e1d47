"""Immediate alerts that the rules ask for, queued in the outbox in the same transaction as
the event (A17.2: a recording that cannot continue is reported to the head at once; N12: the
head's refusal of an emergency measure is told to the officers and supervisor at once)."""

from __future__ import annotations

from core.cases.models import Case, Record
from core.kernel import texts
from core.kernel.clock import utcnow
from core.notices.outbox import insert_outbox_if_absent, officer_outbox_rows, recipients
from core.platform.uow import Event, UnitOfWork

ALERT_ZH = ("【紧急报告】案件 {number}「{title}」的音像记录因{reason}中断且无法继续"
            "（{at}，北京时间），请负责人知悉；承办人须事后作出书面说明（A17.2）。")
ALERT_EN = ("\n[Alert] Case {number}: the AV recording was interrupted ({reason}) and cannot "
            "continue ({at}, Asia/Shanghai); a written explanation is due (A17.2).")


def handle_event(uow: UnitOfWork, event: Event) -> None:
    """Queue the alerts of A17.2, A31.1 (late entries) and N12 (a refused measure)."""
    if event.name == "record.late_entry" and event.case_id:
        _late_entry(uow, event)
        return
    if event.name == "coercive_measure.emergency_refused" and event.case_id:
        _measure_refused(uow, event)
        return
    if event.name != "evidence.recording.cannot_continue" or not event.case_id:
        return
    case = uow.session.get(Case, event.case_id)
    record_id = event.data.get("record_id", "")
    reason = str(event.data.get("reason") or _reason(uow, record_id))
    at = event.at.astimezone(uow.settings.legal_tz).strftime("%Y-%m-%d %H:%M")
    now, rows = utcnow(), []
    for head in recipients(uow.session, case, "head"):
        body = ALERT_ZH.format(number=case.number, title=case.title,
                               reason=texts.choice(reason, "zh", "reason"), at=at)
        if head.lang == "en":
            body += ALERT_EN.format(number=case.number, reason=reason, at=at)
        rows += officer_outbox_rows(
            head, case, f"A17.2:{record_id}:{head.id}", f"【紧急报告】{case.number} 音像记录中断",
            body, {"event": "alert.av_interrupted", "rule_id": "A17.2", "record_id": record_id},
            now)
    insert_outbox_if_absent(uow.session, rows)


def _late_entry(uow: UnitOfWork, event: Event) -> None:
    """Issue 10 item 10: the supervisor learns a record was entered long after it happened."""
    case = uow.session.get(Case, event.case_id)
    record_id = event.data.get("record_id", "")
    when = event.data.get("occurred_at", "")[:16].replace("T", " ")
    now, rows = utcnow(), []
    for sup in recipients(uow.session, case, "supervisor"):
        body = (f"案件 {case.number}《{case.title}》的文书 {record_id} 于事后补录：发生于 {when}，"
                f"超过两个工作日才录入（A31.1），请核查。")
        rows += officer_outbox_rows(
            sup, case, f"late:{record_id}:{sup.id}", f"【补录提示】{case.number}", body,
            {"event": "alert.late_entry", "rule_id": "A31.1", "record_id": record_id}, now)
    insert_outbox_if_absent(uow.session, rows)


REFUSED_ZH = ("【立即解除】案件 {number}「{title}」当场实施的强制措施（{measure}）未获负责人批准"
              "（{at}，北京时间）。依照行政强制法第十九条应当立即解除：请立即作出并送达解除决定书，"
              "此前不得再作其他强制措施文书（N12）。")
REFUSED_EN = ("\n[Release now] Case {number}: the head refused the emergency measure {measure} "
              "({at}, Asia/Shanghai). Release it at once with a release decision (行政强制法 "
              "Art. 19, N12).")


def _measure_refused(uow: UnitOfWork, event: Event) -> None:
    """N12 (Art. 19): the officers and the supervisor learn at once that the head refused an
    emergency measure, so it is released now."""
    case = uow.session.get(Case, event.case_id)
    measure = str(event.data.get("measure_id", ""))
    at = event.at.astimezone(uow.settings.legal_tz).strftime("%Y-%m-%d %H:%M")
    now, rows, seen = utcnow(), [], set()
    for role in ("officer", "supervisor"):
        for who in recipients(uow.session, case, role):
            if who.id in seen:
                continue
            seen.add(who.id)
            body = REFUSED_ZH.format(number=case.number, title=case.title, measure=measure, at=at)
            if who.lang == "en":
                body += REFUSED_EN.format(number=case.number, measure=measure, at=at)
            rows += officer_outbox_rows(
                who, case, f"N12:refused:{measure}:{who.id}",
                f"【立即解除】{case.number} 强制措施未获批准", body,
                {"event": "alert.measure_refused", "rule_id": "N12", "measure_id": measure,
                 "record_id": event.data.get("record_id", ""), "role": role}, now)
    insert_outbox_if_absent(uow.session, rows)


def _reason(uow: UnitOfWork, record_id: str) -> str:
    record = uow.session.get(Record, record_id) if record_id else None
    return (record.fields or {}).get("reason", "other") if record else "other"
