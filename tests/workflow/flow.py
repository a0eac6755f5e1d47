"""A driver of cases through the HTTP API, with sample fields for every record type."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

from PIL import Image

from core import ledger
from core.cases.models import Evidence
from core.kernel.ids import new_id
from core.rules.catalogue import BY_NAME
from tests.helpers import approve, auth, open_case


def png_bytes(color: str = "black") -> bytes:
    """A small real PNG: a signature image."""
    out = io.BytesIO()
    Image.new("RGB", (40, 16), color).save(out, format="PNG")
    return out.getvalue()


PNG_B64 = base64.b64encode(png_bytes()).decode()
A14 = {"certificates_shown": True, "recusal_requested": False}
SIGNER_NAMES = {"party": "岳阳某建设有限公司（法定代表人 周建国）", "interviewee": "周建国",
                "holder": "周建国", "applicant": "岳阳某置业有限公司", "witness": "社区网格员 黄敏",
                "recipient": "周建国", "expert": "王教授", "appraiser": "湖南某司法鉴定所"}
WITNESSES = [{"name": "黄敏", "id_number": "430602199001011234", "relation": "社区网格员",
              "signature_image_base64": PNG_B64},
             {"name": "李强", "id_number": "430602198505052345", "relation": "物业管理员",
              "signature_image_base64": PNG_B64}]

SAMPLE: dict[str, dict] = {
    "filing_form": {"reason": "未取得施工许可擅自施工", "party_info": "岳阳某建设有限公司",
                    "officer_opinion": "建议立案调查"},
    "application_acceptance": {"applicant": "岳阳某置业有限公司", "matter": "建筑工程施工许可",
                               "materials_received": ["申请表", "用地批准文件"],
                               "materials_complete": True, "decision": "accepted",
                               "receipt_no": "受理-2026-001"},
    "complaint_intake": {"complainant_name": "市民甲", "complainant_contact": "13800000000",
                         "channel": "hotline_12345", "received_at": None,
                         "content": "工地夜间违规施工"},
    "complaint_decision": {"decision": "start", "reason": "经核查属实", "decided_at": None},
    "inquiry_record": {"interviewee_name": "周建国", "interviewee_role": "party",
                       "place": "岳阳市住建局询问室", "started_at": None, "ended_at": None,
                       "content": "问：是否取得施工许可？答：没有。", **A14},
    "onsite_inspection_record": {"inspection_kind": "inspection", "place": "岳阳市岳阳楼区某路1号",
                                 "persons_present": "周建国", "situation": "正在进行主体施工",
                                 **A14},
    "sampling_notice": {"holder": "岳阳某建设有限公司", "sampling_basis": "建设工程质量管理条例",
                        "place": "工地材料堆场", "items_summary": "钢筋 3 组", **A14},
    "sampling_item_list": {"items": ["HRB400 钢筋 3 组"], "sealed": True},
    "evidence_preservation": {"reason": "施工日志可能被销毁", "object": "施工日志 1 本",
                              "form": "registration_preservation",
                              "officer_opinion": "建议先行登记保存"},
    "evidence_preservation_list": {"holder": "周建国", "items": ["施工日志 1 本"],
                                   "place_kept": "住建局证物室"},
    "preservation_decision": {"handling": "return", "reason": "已复制，原件退还"},
    "material_review": {"materials_reviewed": ["申请表", "用地批准文件"],
                        "findings": "材料齐全，符合法定形式", "conclusion": "meets_requirements"},
    "handling_opinion": {"party": "岳阳某建设有限公司",
                         "evidence_adopted": "现场检查笔录、询问笔录",
                         "facts_found": "未取得施工许可擅自施工", "legal_basis": "建筑法第六十四条",
                         "reasons": "事实清楚，证据确凿", "proposed_decision": "责令改正，罚款",
                         "discretion_reasons": "首次违法，主动配合", "officer_opinion": "建议处罚",
                         "expert_review_required": False, "legal_review_required": False},
    "expert_opinion": {"experts": ["王教授", "赵工"], "content": "结构安全，可整改",
                       "opinion_date": None},
    "legal_review": {"reviewers": ["刘洋"], "opinion": "事实清楚，适用法律正确",
                     "conclusion": "agree"},
    "rights_notice": {"proposed_decision": "责令改正并处罚款", "facts": "未取得施工许可擅自施工",
                      "reasons": "违反建筑法第七条", "legal_basis": "建筑法第六十四条",
                      "how_to_respond": "书面或口头向本局陈述申辩",
                      "response_period_working_days": 5,
                      "hearing_right": False},
    "statement_defence": {"statement": "已在办理施工许可", "defence_points": "请求从轻",
                          **A14},
    "statement_waiver": {"waiver_statement": "本人放弃陈述申辩权利",
                         "evidence_kept": "当事人签名的放弃声明"},
    "hearing_request": {"requested_by": "周建国", "requested_at": None, "form": "written"},
    "hearing_notice": {"hearing_at": None, "place": "住建局听证室", "host": "王强",
                       "public": True},
    "hearing_record": {"host": "王强", "recorder": "李娜", "participants": ["周建国", "张伟"],
                       "investigators_statement": "调查人员陈述事实、证据和处理建议",
                       "party_statement": "请求从轻处罚", "final_statement": "无", **A14},
    "hearing_report": {"host": "王强", "summary": "听证顺利举行", "opinion": "维持拟处罚意见"},
    "decision": {"content": "责令改正，罚款五千元", "facts": "未取得施工许可擅自施工",
                 "legal_basis": "建筑法第六十四条",
                 "remedy": "如不服本决定，可在收到之日起六十日内申请行政复议或六个月内提起行政诉讼",
                 "obligation": False, "correction_ordered": False},
    "service_direct": {"recipient": "周建国", "signed_by": "周建国", "signer_relation": "self",
                       "place": "岳阳某建设有限公司办公室"},
    "service_lodged": {"recipient": "周建国", "reason": "受送达人拒绝签收",
                       "place": "岳阳某建设有限公司办公室", "witness_name": "黄敏"},
    "service_postal": {"recipient": "周建国", "address": "岳阳市岳阳楼区某路1号",
                       "carrier": "ems", "tracking_number": "EMS1234567890CN"},
    "service_entrusted": {"recipient": "周建国", "reason": "受送达人在外地",
                          "entrusted_to": "长沙市住建局"},
    "service_forwarded": {"recipient": "周建国", "reason": "受送达人被羁押",
                          "forwarded_via": "岳阳市看守所"},
    "service_electronic": {"recipient": "周建国", "channel": "email",
                           "address": "zhou@example.com", "delivered_at": None},
    "service_announcement": {"recipient": "周建国", "medium": "bulletin_board",
                             "announcement_text": "限你于公告之日起三十日内领取决定书"},
    "service_address_confirmation": {"address": "岳阳市岳阳楼区某路1号",
                                     "consents_electronic": True,
                                     "electronic_channel": "email",
                                     "electronic_address": "zhou@example.com"},
    "compliance_record": {"status": "complied", "details": "已缴纳罚款并整改"},
    "correction_check": {"result": "corrected", "findings": "已停止施工并补办许可", **A14},
    "demand_notice": {"obligation": "缴纳罚款五千元", "performance_deadline": None,
                      "performance_method": "银行缴款", "statement_rights": "你有权陈述和申辩"},
    "demand_response": {"responded": False},
    "court_application": {"court": "岳阳楼区人民法院",
                          "materials": ["决定书", "催告书", "送达回证"],
                          "officer_opinion": "申请强制执行"},
}
APPROVER = {"supervisor": "supervisor", "head": "head", "officer": "officer"}


class Flow:
    """Open cases, add records, sign, approve, serve and move stages through the API."""

    def __init__(self, client, people, container, clock):
        self.client, self.people, self.container, self.clock = client, people, container, clock
        self.officer, self.officer2 = people["officer"], people["officer2"]
        self.pair = [self.officer["id"], self.officer2["id"]]

    # --- plumbing --------------------------------------------------------------------------

    def post(self, path: str, body: dict, user: dict | None = None):
        """POST JSON as the user (default the first officer)."""
        return self.client.post(path, json=body, headers=auth(user or self.officer))

    def get(self, path: str, user: dict | None = None) -> dict:
        """GET JSON (asserting 200)."""
        r = self.client.get(path, headers=auth(user or self.officer))
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def open(self, **over) -> dict:
        """Open a case (penalty, ex officio unless told)."""
        return open_case(self.client, self.officer, **over)

    # --- records -----------------------------------------------------------------------------

    def fields(self, rtype: str, **over) -> dict:
        """Sample fields of a type, with times filled in from the clock."""
        out = {k: v for k, v in SAMPLE.get(rtype, {}).items()}
        for k, v in list(out.items()):
            f = BY_NAME[rtype].field(k)
            if v is None and f is not None:
                out[k] = (self.clock.now().date().isoformat() if f.type == "date"
                          else self.clock.iso(minutes=-1))
        out.update(over)
        return {k: v for k, v in out.items() if v is not None}

    def record(self, case: dict, rtype: str, fields: dict | None = None, *, user=None,
               officers=None, at: str | None = None, expect: int = 201, **over) -> dict:
        """Add a record (sample fields + overrides); assert the status; return the body."""
        if fields is None:
            fields = self.fields(rtype, **over)
        body = {"type": rtype, "fields": fields, "occurred_at": at or self.clock.iso()}
        if officers is not None:
            body["officers"] = officers
        elif BY_NAME[rtype].field_record:
            body["officers"] = self.pair
        r = self.post(f"/api/v1/cases/{case['id']}/records", body, user)
        assert r.status_code == expect, r.get_json()
        return r.get_json()

    def sign(self, case: dict, record: dict, role: str, *, officer_id=None, name=None,
             method: str = "signature", expect: int = 201) -> dict:
        """Sign a record as one role with a PNG image."""
        body = {"role": role, "method": method, "image_base64": PNG_B64,
                "signer_name": name or SIGNER_NAMES.get(role, "某人")}
        user = None
        if officer_id:
            body["signer_officer_id"] = officer_id
            body.pop("signer_name")
            # A13.2: each officer signs for themselves (their own token).
            user = next((u for u in self.people.values()
                         if isinstance(u, dict) and u.get("id") == officer_id), None)
        r = self.post(f"/api/v1/cases/{case['id']}/records/{record['id']}/signatures", body,
                      user)
        assert r.status_code == expect, r.get_json()
        return r.get_json()

    def sign_all(self, case: dict, record: dict, skip: tuple[str, ...] = ()) -> None:
        """Every signer role of the record signs (every listed officer for 'officer')."""
        for role in BY_NAME[record["type"]].signers:
            if role in skip:
                continue
            if role == "officer":
                for oid in record["officers"]:
                    self.sign(case, record, role, officer_id=oid)
            elif role == "server":
                self.sign(case, record, role, officer_id=record["officers"][0])
            else:
                self.sign(case, record, role, method="seal" if role == "appraiser" else
                          "signature")

    def refuse(self, case: dict, record: dict, role: str, *, witnesses=WITNESSES,
               video_id: str | None = None, expect: int = 201) -> dict:
        """Record a refusal to sign with witnesses and/or a video."""
        body = {"role": role, "person_name": SIGNER_NAMES.get(role, "某人"),
                "reason": "当事人拒绝签字", "place": "现场", "at": self.clock.iso()}
        if witnesses:
            body["witnesses"] = witnesses
        if video_id:
            body["video_evidence_id"] = video_id
        r = self.post(f"/api/v1/cases/{case['id']}/records/{record['id']}/refusals", body)
        assert r.status_code == expect, r.get_json()
        return r.get_json()

    def av(self, case: dict, record_id: str | None, media_type: str = "video/mp4",
           proves: str = "现场执法全过程") -> str:
        """Store an AV item linked to a record, as the evidence upload would (A17.1)."""
        now = self.clock.now()
        with self.container.uow() as uow:
            blob = uow.blobs.put_bytes(f"{media_type} {new_id()}".encode())
            ev = Evidence(id=new_id(), case_id=case["id"], record_id=record_id,
                          sha256=blob.sha256, size=blob.size, media_type=media_type,
                          filename="av.bin", proves=proves, method="recorder",
                          producer_id=self.officer["id"], captured_at=now, meta={},
                          checks=[], assurance="verified", created_at=now)
            uow.session.add(ev)
            ledger.append(uow.session, "evidence", ev, case_id=case["id"])
            return ev.id

    def approve_all(self, case: dict, record: dict) -> None:
        """Take every remaining approval step with the role it needs."""
        for step in BY_NAME[record["type"]].approval_chain[1:]:
            user = self.people[APPROVER[step.role]]
            r = approve(self.client, user, case["id"], record["id"])
            assert r.status_code == 201, r.get_json()

    def done(self, case: dict, rtype: str, *, av: bool = False, **kw) -> dict:
        """A record made complete: added, signed by all, approved, AV linked if asked."""
        rec = self.record(case, rtype, **kw)
        self.sign_all(case, rec)
        self.approve_all(case, rec)
        if av:
            self.av(case, rec["id"])
        return rec

    # --- service -----------------------------------------------------------------------------

    def serve(self, case: dict, doc: dict, method: str = "direct", **over) -> dict:
        """Serve a document by a method that needs no later step; signed by all."""
        rtype = f"service_{method}"
        rec = self.record(case, rtype, officers=[self.officer["id"]], document_id=doc["id"],
                          **over)
        self.sign_all(case, rec)
        if BY_NAME[rtype].av_required:
            media = "image/jpeg" if method == "announcement" else "video/mp4"
            self.av(case, rec["id"], media, proves=f"{rtype} 过程")
        return rec

    # --- stages --------------------------------------------------------------------------------

    def move(self, case: dict, to: str, expect: int = 200) -> dict:
        """Ask for a transition; assert the status; return the body."""
        r = self.post(f"/api/v1/cases/{case['id']}/transitions", {"to": to})
        assert r.status_code == expect, r.get_json()
        return r.get_json()

    def missing(self, case: dict, to: str) -> list[str]:
        """The requirement IDs a refused transition names."""
        return self.move(case, to, expect=409)["error"]["missing"]

    def checklist(self, case: dict) -> dict:
        """The case's checklist by stage."""
        return self.get(f"/api/v1/cases/{case['id']}/checklist")["stages"]

    def filed(self, **over) -> dict:
        """A case with its filing form signed and approved, moved to investigation."""
        case = self.open(**over)
        self.done(case, "filing_form")
        self.move(case, "investigation")
        return case

    def later(self, **delta) -> None:
        """Let time pass."""
        self.clock.advance(**delta)

    def custodian(self) -> dict:
        """The department's custodian (档案管理人员), made on first use, with a token."""
        if "custodian" not in self.people:
            from core.people.models import Department
            from core.people.officers import add_officer, issue_token

            with self.container.uow() as uow:
                dept = uow.session.get(Department, self.people["department"]["id"])
                who = add_officer(uow.session, dept, "赵敏", ["custodian"], None)
                self.people["custodian"] = {"id": who.id, "name": who.name,
                                            "role": "custodian",
                                            "token": issue_token(uow.session, who)}
        return self.people["custodian"]

    def build_dossier(self, case: dict, user: dict | None = None) -> dict:
        """Ask for the case file (A32.1) and wait for the in-process job; the job when done."""
        import time

        r = self.post(f"/api/v1/cases/{case['id']}/dossier", {}, user)
        assert r.status_code == 202, r.get_json()
        job = r.get_json()
        for _ in range(1200):
            job = self.get(f"/api/v1/dossier-jobs/{job['id']}", user)
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job["status"] == "done", job
        return job

    def archive(self, case: dict) -> dict:
        """Build the case file and have the custodian accept it (A32.1): closing may follow."""
        job = self.build_dossier(case)
        r = self.post(f"/api/v1/dossiers/{job['dossier_id']}/archive", {"location": "档案室 A-1"},
                      self.custodian())
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def days_ago(self, days: int) -> str:
        """An ISO time some days back on the clock."""
        return (self.clock.now() - timedelta(days=days)).isoformat()
