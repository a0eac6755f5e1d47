"""The record-type catalogue (A13.1, A16.1–A30.1) and the officers on field records (A14.1)."""

from __future__ import annotations


def _types(client) -> dict:
    return {t["name"]: t for t in client.get("/api/v1/record-types").get_json()["record_types"]}


def _fields(t: dict, required_only: bool = False) -> set[str]:
    return {f["name"] for f in t["fields"] if f["required"] or not required_only}


def test_catalogue_has_every_record_type_of_the_articles(client):
    """A13.1, A16.1, A19.1, A20.1, A21.1, A22.1, A22.3, A29.1, A30.1: each type of the articles
    with the fields they list."""
    types = _types(client)
    assert {"inquiry_record", "evidence_retrieval_notice", "evidence_preservation_list",
            "onsite_inspection_record", "sampling_notice", "sampling_item_list", "rights_notice",
            "statement_defence", "hearing_notice", "hearing_record", "hearing_report",
            "appraisal_opinion", "evidence_preservation", "handling_opinion", "expert_opinion",
            "legal_review", "statement_waiver", "decision", "compliance_record",
            "correction_check", "demand_notice", "demand_response", "court_application",
            "court_acceptance", "court_result"} <= set(types)
    assert _fields(types["evidence_preservation"], True) >= {"reason", "object", "form"}
    form = next(f for f in types["evidence_preservation"]["fields"] if f["name"] == "form")
    assert set(form["choices"]) == {"registration_preservation", "copy", "av", "appraisal",
                                    "survey", "inquiry"}
    assert _fields(types["handling_opinion"], True) >= {
        "party", "evidence_adopted", "facts_found", "legal_basis", "reasons",
        "proposed_decision", "discretion_reasons"}
    assert _fields(types["expert_opinion"], True) == {"experts", "content", "opinion_date"}
    assert types["expert_opinion"]["signers"] == ["expert"]
    assert _fields(types["legal_review"], True) >= {"reviewers", "opinion"}
    assert types["legal_review"]["author_roles"] == ["legal_reviewer"]
    assert _fields(types["rights_notice"], True) >= {
        "proposed_decision", "facts", "reasons", "legal_basis", "how_to_respond",
        "response_period_working_days"}
    assert _fields(types["statement_waiver"], True) == {"waiver_statement", "evidence_kept"}
    assert types["compliance_record"]["rules"] == ["A29.1"]
    assert {"A30.1", "N14", "N15"} <= set(types["court_application"]["rules"])
    av = {n for n, t in types.items() if t["av_required"]}
    assert {"onsite_inspection_record", "sampling_notice", "hearing_record",
            "service_lodged"} <= av
    assert types["service_lodged"]["av"]["waivable"] is False
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "Fields_service_lodged" in doc["components"]["schemas"]


def test_field_records_carry_certified_officers_and_recusal(flow):
    """A14.1: two certified officers, certificates shown, a requested recusal with its outcome;
    a recused officer cannot take part; names and numbers are kept as they stood."""
    case = flow.filed()
    one = flow.record(case, "inquiry_record", officers=[flow.officer["id"]], expect=409)
    assert one["error"]["missing"] == ["A14.1"]
    hidden = flow.record(case, "inquiry_record", certificates_shown=False, expect=409)
    assert hidden["error"]["missing"] == ["A14.1"]
    err = flow.record(case, "inquiry_record", recusal_requested=True, expect=422)["error"]
    assert set(err["fields"]) == {"recusal_outcome", "recusal_reason"}
    assert err["missing"] == ["A14.1"]
    granted = flow.record(case, "inquiry_record", recusal_requested=True,
                          recusal_outcome="granted", recusal_reason="亲属关系",
                          recused_officers=[flow.officer2["id"]], expect=409)
    assert granted["error"]["missing"] == ["A14.1"]
    head = flow.people["head"]["id"]
    rec = flow.record(case, "inquiry_record", officers=[flow.officer["id"], head],
                      recusal_requested=True, recusal_outcome="granted",
                      recusal_reason="李娜与当事人系亲属", recused_officers=[flow.officer2["id"]])
    assert rec["fields"]["officer_certificates"] == ["张伟 湘执430600001", "陈静 湘执430600005"]
    flow.record(case, "inquiry_record", officer_certificates=["假的"], expect=422)


def test_legal_review_is_made_by_a_legal_reviewer(flow):
    """A21.1: only a legal reviewer records the legal review."""
    case = flow.filed()
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    assert flow.record(case, "legal_review", expect=403)["error"]["code"] == "forbidden"
    review = flow.record(case, "legal_review", user=flow.people["legal_reviewer"])
    assert review["created_by"] == flow.people["legal_reviewer"]["id"]


def test_service_records_are_tagged_with_the_stage_they_happen_in(flow):
    """A3.1, A23.1: a rights notice served in the decision stage gives a service record of that
    stage; records of a later stage are refused before the case gets there."""
    case = flow.filed()
    flow.record(case, "decision", expect=409)  # decision stage not reached
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    notice = flow.done(case, "rights_notice")
    service = flow.serve(case, notice)
    assert service["stage"] == "decision"
    flow.record(case, "compliance_record", decision_id=notice["id"], expect=409)


def test_workflow_routes_are_described_for_openapi(app):
    """Every route of the workflow blueprint has an OpenAPI entry ready to merge."""
    from api.workflow import OPENAPI_PATHS

    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("workflow."):
            path = rule.rule.replace("<", "{").replace(">", "}")
            methods = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
            assert methods <= set(OPENAPI_PATHS.get(path, {})), path
