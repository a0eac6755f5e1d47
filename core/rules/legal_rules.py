"""Every RULES.md rule (A- and N-IDs) with its words in Chinese and English, its figure and
unit, legal source, effective dates, ⚠ and the setting that overrides it: what
``GET /api/v1/rules`` lists (CONTRACT.md). Deadline figures come from the deadline rule table
(so an administrator's DEADLINE_OVERRIDES shows), every version in force by date (N33)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.kernel import texts
from core.kernel.settings import Settings
from core.rules.deadline_rules import (
    COERCION_FROM,
    LICENSING_FROM,
    MOHURD_55,
    MUNICIPAL,
    MUNICIPAL_FROM,
    PENALTY_2021,
    DeadlineRule,
    RuleTable,
)

# The national-law rows of RULES.md part 2: (zh, en, source, effective_from, ⚠, setting).
NATIONAL: dict[str, tuple[str, str, str, date | None, bool, str | None]] = {
    "N1": ("行政处罚法规定的二、三、五、七日期限为工作日", "行政处罚法 periods of 2/3/5/7 days are "
           "working days", "行政处罚法 (2021) 第八十五条", PENALTY_2021, False, None),
    "N2": ("行政强制法十日以内期限为工作日",
           "行政强制法 periods of 10 days or less are working days",
           "行政强制法 第六十九条", COERCION_FROM, False, None),
    "N3": ("行政许可法期限以工作日计算", "行政许可法 periods are working days",
           "行政许可法 第八十二条", LICENSING_FROM, False, None),
    "N10": ("陈述申辩期限（告知书载明，通常五个工作日）", "statement and defence period (set in "
            "the notice; 5 working days is common)", "行政处罚法 (2021) 第四十四条、第四十五条",
            PENALTY_2021, True, "DEADLINE_OVERRIDES=A22.1=N"),
    "N11": ("追责时效二年（涉及生命健康、金融安全且有危害后果的五年）", "limitation on penalties: "
            "2 years (5 for life/health/financial harm)", "行政处罚法 (2021) 第三十六条",
            PENALTY_2021, False, None),
    "N19": ("邮寄送达以回执上注明的收件日期为送达日期", "postal service: the date on the return "
            "receipt", "民事诉讼法 第九十一条", date(1991, 4, 9), False, None),
    "N20": ("留置送达：留在住所即视为送达，有见证人或拍照录像", "lodged service: served when left; "
            "witness or photo/video", "民事诉讼法 第八十九条", date(1991, 4, 9), False, None),
    "N25": ("简易程序：当场处罚，出示证件，听取陈述申辩，拒签在决定书注明，事后备案；个人二百元、"
            "单位三千元以下", "summary procedure: on the spot, certificate shown, statement heard, "
            "refusal noted, filed afterwards; up to 200 yuan (person) / 3,000 (organisation)",
            "行政处罚法 (2021) 第五十一条、第五十二条; 住房和城乡建设部令第55号 第十三条",
            PENALTY_2021, True, None),
    "N26": ("催告书、强制执行决定书直接送达，当事人拒收或无法直接送达的依民事诉讼法", "demand "
            "notices and enforcement decisions are served directly first", "行政强制法 第三十八条",
            COERCION_FROM, False, None),
    "N27": ("不得在夜间或法定节假日实施行政强制执行（情况紧急除外）",
            "no enforcement at night or on "
            "statutory holidays, except emergencies", "行政强制法 第四十三条", COERCION_FROM,
            False, None),
    "N28": ("听证后、涉及重大公共利益、案情复杂或新类型案件须法制审核；情节复杂或重大的集体讨论",
            "legal review after a hearing and in major, complex or new cases; collective "
            "discussion of complex or major cases",
            "行政处罚法 (2021) 第五十七条第二款、第五十八条",
            PENALTY_2021, False, None),
    "N29": ("期间不包括在途时间，期满前交邮的不算过期", "a period excludes time in transit",
            "民事诉讼法 第八十五条", date(1991, 4, 9), False, None),
    "N30": ("许可：五日内未告知补正视为受理；听证、检验、鉴定、专家评审时间不计入；批准后十日内"
            "颁发证件", "licensing: no notice within 5 working days means accepted; hearing, "
            "testing, appraisal and expert time excluded; licence within 10 working days",
            "行政许可法 第三十二条第一款第四项、第四十四条、第四十五条", LICENSING_FROM, True,
            None),
    "N31": ("具有一定社会影响的处罚决定七个工作日内公开，变更撤销后三个工作日内撤回",
            "decisions with social impact published within 7 working days; withdrawn within 3 "
            "when changed", "行政处罚法 (2021) 第四十八条; 住房和城乡建设部令第55号 第十条",
            MOHURD_55, True, None),
    "N32": ("复议六十日；诉讼六个月；复议决定后十五日内起诉；未告知救济途径的一年", "remedies: "
            "review 60 days, lawsuit 6 months, 15 days after a review decision, 1 year where "
            "the remedies were not stated", "行政复议法 (2023) 第二十条; 行政诉讼法 第四十五条、"
            "第四十六条", date(2024, 1, 1), True, "REMEDY_REVIEW_DAYS, REMEDY_LITIGATION_MONTHS, "
            "REMEDY_SUE_AFTER_REVIEW_DAYS, REMEDY_UNSTATED_MONTHS"),
    "N33": ("生效日期：2021年行政处罚法规则自2021-07-15起适用；此前听证申请期限三日、无九十日时限",
            "effective dates: the 2021 行政处罚法 rules apply from 2021-07-15; before, the "
            "hearing request period was 3 days and there was no 90-day limit",
            "行政处罚法 (2021) 第八十六条", PENALTY_2021, True, None),
}
# Municipal articles (A-IDs): the article of the 实施细则 each ID belongs to.
A_IDS = ("A2.1", "A3.1", "A4.1", "A5.1", "A6.1", "A7.1", "A8.1", "A9.1", "A9.2", "A10.1",
         "A10.2", "A11.1", "A12.1", "A13.1", "A13.2", "A13.3", "A14.1", "A15.1", "A16.1",
         "A17.1", "A17.2", "A18.1", "A19.1", "A20.1", "A21.1", "A22.1", "A22.2", "A22.3",
         "A23.1", "A24.1", "A25.1", "A26.1", "A27.1", "A28.1", "A29.1", "A30.1", "A31.1",
         "A32.1", "A33.1", "A34.1", "A35.1", "A36.1", "A37.1")
N_IDS = tuple(f"N{i}" for i in range(1, 34))
EXTRA_WORDS = {"A6.1": ("合法、全面、及时、客观、关联", "lawful, complete, timely, objective, "
                        "linked"), "A7.1": ("配备设备、数字化", "equipment and digitisation")}
ZH_NUM = "零一二三四五六七八九十"


def _article_zh(n: int) -> str:
    if n <= 10:
        return ZH_NUM[n]
    tens, ones = divmod(n, 10)
    return (ZH_NUM[tens] if tens > 1 else "") + "十" + (ZH_NUM[ones] if ones else "")


@dataclass(frozen=True)
class RuleVersion:
    """One version of a figure: value, unit, counting, source and when it is in force."""

    figure: int | None
    unit: str | None
    source: str
    effective_from: date | None
    effective_until: date | None
    warning: bool

    def to_json(self) -> dict:
        """As the API shows it."""
        return {"figure": self.figure, "unit": self.unit, "legal_source": self.source,
                "effective_from": _iso(self.effective_from),
                "effective_until": _iso(self.effective_until), "warning": self.warning}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _from_deadline(rule: DeadlineRule) -> RuleVersion:
    return RuleVersion(rule.period, rule.unit, rule.legal_source, rule.effective_from,
                       rule.effective_until, rule.configurable or "⚠" in rule.legal_source)


def _deadline_versions(table: RuleTable, rule_id: str) -> list[RuleVersion]:
    try:
        found = table.versions(rule_id)
    except KeyError:
        return []
    # An A-rule shows only its own rows (A9.1 is related to N16, but its source is municipal);
    # an N-rule may live in an A-row (N10 in A22.1, N22 in A35.1).
    found = [r for r in found if r.id == rule_id or (rule_id.startswith("N")
                                                       and rule_id in r.ids)]
    return [_from_deadline(r) for r in sorted(found, key=lambda r: r.effective_from or date.min)]


def rule_list(table: RuleTable, settings: Settings | None = None) -> list[dict]:
    """Every A- and N-rule: ID, words (zh, en), figure, unit, source, dates, ⚠, setting."""
    settings = settings or Settings()
    out = []
    for rid in (*A_IDS, *N_IDS):
        versions = _deadline_versions(table, rid)
        if rid.startswith("A"):
            zh, en = texts.RULES.get(rid) or EXTRA_WORDS.get(rid, (rid, rid))
            article = int(rid[1:].split(".")[0])
            source = f"{MUNICIPAL} 第{_article_zh(article)}条"
            base = RuleVersion(None, None, source, MUNICIPAL_FROM, None, False)
            setting = "DEADLINE_OVERRIDES" if versions else None
        else:
            zh, en, source, since, warn, setting = NATIONAL.get(rid) or (
                None, None, None, None, False, None)
            if zh is None:  # a deadline row: its words come from the table
                rule = table.rule_for(rid)
                zh, en = rule.title_zh, rule.title_en
                source = rule.legal_source
            base = RuleVersion(None, None, source, since, None, warn)
            setting = setting or ("DEADLINE_OVERRIDES" if versions else None)
        current = versions[-1] if versions else base
        row = {
            "id": rid, "text_zh": zh, "text_en": en, "text": {"zh": zh, "en": en},
            "figure": current.figure, "unit": current.unit,
            "legal_source": current.source if versions else base.source,
            "effective_from": _iso(versions[0].effective_from if versions else
                                   base.effective_from),
            "effective_until": _iso(current.effective_until),
            "warning": any(v.warning for v in versions) or base.warning,
            "setting": setting,
            "versions": [v.to_json() for v in versions],
        }
        if table.overrides.get(rid) is not None:
            row["overridden"] = True
        parts = table.parts(rid)
        if parts:
            # A second figure of the same RULES.md row (N31's withdrawal): shown under its ID,
            # never as an ID of its own.
            row["parts"] = [{"part": r.part, "key": r.key, "title_zh": r.title_zh,
                             "title_en": r.title_en, **_from_deadline(r).to_json(),
                             "overridden": r.overridden_from is not None} for r in parts]
        if rid == "N32":
            row["settings"] = {
                "REMEDY_REVIEW_DAYS": settings.remedy_review_days,
                "REMEDY_LITIGATION_MONTHS": settings.remedy_litigation_months,
                "REMEDY_SUE_AFTER_REVIEW_DAYS": settings.remedy_sue_after_review_days,
                "REMEDY_UNSTATED_MONTHS": settings.remedy_unstated_months}
        if rid == "N13":
            row["settings"] = {
                "SEIZURE_HANDOVER_HOURS": settings.seizure_handover_hours,
                "warning": "当场交付的时限法律未规定，本地设定 ⚠ / 行政强制法 Art. 24 gives no "
                           "figure for 'on the spot': a local choice ⚠"}
        if rid == "N4":
            row["settings"] = {
                "HEARING_FINE_PERSON_YUAN": settings.hearing_fine_person_yuan,
                "HEARING_FINE_ORG_YUAN": settings.hearing_fine_org_yuan,
                "HEARING_CONFISCATION_PERSON_YUAN": settings.hearing_confiscation_person_yuan,
                "HEARING_CONFISCATION_ORG_YUAN": settings.hearing_confiscation_org_yuan,
                "warning": "较大数额由省级规定 ⚠ / the amounts are set by the province ⚠"}
        out.append(row)
    return out
