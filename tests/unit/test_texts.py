"""One home for texts (issue 9): every code a user can meet has its Chinese and English words
in core.kernel.texts, so no raw enum code reaches a Chinese reply."""

from __future__ import annotations

from core.kernel import texts
from core.kernel.vocab import DATUMS, KINDS, PARTY_KINDS, ROLES, ROUTES, STAGES
from core.rules.catalogue import CATALOGUE, SIGNER_ROLES_ZH


def test_every_catalogue_choice_has_words_in_both_languages():
    """A2.1–A30.1 records: every enum choice of every catalogue field is worded."""
    missing = sorted({(f.name, c) for t in CATALOGUE for f in t.fields if f.type == "enum"
                      for c in f.choices if not texts.known_choice(c)})
    assert missing == []
    for t in CATALOGUE:
        for f in t.fields:
            for c in f.choices:
                zh, en = texts.choice(c, "zh", f.name), texts.choice(c, "en", f.name)
                assert zh != c and en, (f.name, c)
                assert not any("a" <= ch.lower() <= "z" for ch in zh if ch.isascii()) \
                    or c in ("telegram", "ems"), (f.name, c, zh)


def test_every_vocabulary_code_is_worded():
    """Kinds (A2.1), routes, stages (A3.1), roles (A8.1), datums and party kinds."""
    for table, codes in (("kind", KINDS), ("route", ROUTES), ("stage", STAGES),
                         ("role", ROLES), ("datum", DATUMS), ("party_kind", PARTY_KINDS),
                         ("signer_role", SIGNER_ROLES_ZH)):
        for code in codes:
            assert texts.label(table, code, "zh") != code, (table, code)
            assert texts.label(table, code, "en"), (table, code)


def test_unknown_codes_show_as_themselves_and_lists_join_by_language():
    """Nothing is hidden: an unknown code shows as itself; lists join as each language does."""
    assert texts.label("kind", "nonsense") == "nonsense"
    assert texts.labels("role", ["officer", "head"], "zh") == "执法人员、负责人"
    assert texts.labels("role", ["officer", "head"], "en") == "officer, head"
    assert texts.choice("other", "zh", "reason") == "其他原因"
    assert texts.choice("battery", "zh") == "电量不足"
