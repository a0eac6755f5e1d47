"""The one field validator (issue 9): every service refuses NUL and control characters, names
the field, and says what is wrong in Chinese and English."""

from __future__ import annotations

import pytest

from core.cases.commands import OpenCase
from core.kernel import fields
from core.kernel.errors import Invalid


@pytest.mark.parametrize("value", ["违法\x00建设", "a\x07b", "左\u202e右", "x\x1b[31m"])
def test_control_characters_are_refused_in_every_text(value):
    """NUL (which PostgreSQL text cannot hold), terminal escapes and bidi overrides."""
    with pytest.raises(Invalid) as err:
        fields.text(value, "title", limit=300)
    assert err.value.details["problems"] == {"title": "control_chars"}
    assert err.value.details["fields_zh"] == {"title": "含有不可见的控制字符"}


def test_multiline_text_keeps_newlines_and_tabs():
    """A statement (询问笔录) has lines; only the control characters are refused."""
    assert fields.text("问：是否施工？\n答：是。\t", "content", limit=100,
                       multiline=True) == "问：是否施工？\n答：是。"
    with pytest.raises(Invalid):
        fields.text("一行\n两行", "title", limit=100)


def test_a_case_title_with_nul_is_a_422_not_a_500(client, people):
    """The case API refuses NUL in any field with 422 naming it (no 500 on PostgreSQL)."""
    token = people["officer"]["token"]
    r = client.post("/api/v1/cases", headers={"Authorization": f"Bearer {token}"},
                    json={"kind": "penalty", "initiation": "ex_officio", "title": "违法\u0000建设",
                          "party": {"name": "某\u0000公司"}})
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"title"}


def test_numbers_times_and_choices():
    """Coordinates in range, times with their offset, choices from the list, unknown fields
    refused rather than ignored."""
    assert fields.decimal("29.3573", "lat", low=-90, high=90) == pytest.approx(29.3573)
    for bad, code in (("nan", "not_number"), ("1e400", "out_of_range"), ("91", "out_of_range")):
        with pytest.raises(Invalid) as err:
            fields.decimal(bad, "lat", low=-90, high=90)
        assert err.value.details["problems"]["lat"] in (code, "not_number")
    with pytest.raises(Invalid) as err:
        fields.moment("2026-11-26T09:30:00", "occurred_at")
    assert err.value.details["problems"] == {"occurred_at": "no_offset"}
    with pytest.raises(Invalid) as err:
        OpenCase.parse({"kind": "penalty", "initiation": "ex_officio", "title": "x",
                        "titel": "typo"})
    assert err.value.details["problems"] == {"titel": "unknown_field"}
    with pytest.raises(Invalid) as err:
        fields.whole("9" * 30, "offset", low=0, high=10**9)
    assert err.value.details["problems"] == {"offset": "not_integer"}
