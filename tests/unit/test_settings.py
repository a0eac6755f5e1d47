"""Settings are read once into a frozen object; production refuses embedded defaults."""

from __future__ import annotations

import dataclasses

import pytest

from core.kernel.settings import DEV_SECRET, Settings, SettingsError


def test_embedded_defaults_when_unset():
    """Unset means SQLite and a blob folder under instance/, legal days in Asia/Shanghai."""
    s = Settings.from_env({})
    assert s.effective_database_url.startswith("sqlite:///")
    assert s.effective_storage_url.startswith("file://")
    assert s.tz_legal == "Asia/Shanghai" and s.port == 5000 and s.retention_years == 25
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.port = 1  # type: ignore[misc]


def test_unset_public_url_follows_the_port():
    """PUBLIC_URL unset: links point at 127.0.0.1 on PORT, the port `make run` serves on (the
    Makefile exports PORT); set, PUBLIC_URL wins, without its trailing slash."""
    assert Settings.from_env({}).effective_public_url == "http://127.0.0.1:5000"
    assert Settings.from_env({"PORT": "8123"}).effective_public_url == "http://127.0.0.1:8123"
    assert Settings.from_env({"PORT": "8123", "PUBLIC_URL": "https://qc.example.cn/"}
                             ).effective_public_url == "https://qc.example.cn"
    assert Settings.from_env({"PORT": "8123"}).public_url == ""  # "not configured" stays visible


def test_production_refuses_every_embedded_default_by_name():
    """APP_ENV=production with nothing set names each problem in one message."""
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"APP_ENV": "production", "TELEGRAM_TOKEN": "123:abc"})
    msg = str(err.value)
    for name in ("DATABASE_URL", "REDIS_URL", "STORAGE_URL", "SECRET_KEY",
                 "TELEGRAM_WEBHOOK_SECRET", "LEDGER_KEY_PATH"):
        assert name in msg
    assert "123:abc" not in msg


def test_production_accepts_a_complete_configuration():
    """A full production environment starts."""
    s = Settings.from_env({
        "APP_ENV": "production", "DATABASE_URL": "postgresql+psycopg://u:pw@db/q",
        "REDIS_URL": "redis://r:6379/0", "STORAGE_URL": "file:///mnt/evidence",
        "SECRET_KEY": "x" * 40, "LEDGER_KEY_PATH": "/etc/quancheng/ledger.pem"})
    assert s.production
    assert "pw" not in repr(s)


@pytest.mark.parametrize("env", [{"PORT": "eighty"}, {"TZ_LEGAL": "Mars/Olympus"},
                                 {"APP_ENV": "production", "DATABASE_URL": "sqlite:///x.db",
                                  "REDIS_URL": "redis://r", "STORAGE_URL": "file:///x",
                                  "SECRET_KEY": DEV_SECRET, "LEDGER_KEY_PATH": "/k"}])
def test_bad_settings_are_clear_errors(env):
    """A malformed or unsafe value stops the start with a SettingsError."""
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_deadline_overrides_are_checked_at_start(tmp_path):
    """N24 (⚠ figure): an administrator's override is read at start; a malformed one stops it."""
    from core.bootstrap import bootstrap

    good = Settings.from_env({"DEADLINE_OVERRIDES": "N24=10",
                              "INSTANCE_PATH": str(tmp_path)})
    assert good.deadline_overrides == "N24=10"
    bad = Settings.from_env({"DEADLINE_OVERRIDES": "N24=ten", "INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(SettingsError):
        bootstrap(bad)


def test_legal_figures_marked_uncertain_are_settings(tmp_path):
    """N25, N27, N24 (⚠ in RULES.md): the summary-procedure fine limits (行政处罚法 Art. 51:
    200 yuan for a person, 3,000 for an organisation), the night of 行政强制法 Art. 43 (22:00 to
    06:00, 噪声污染防治法 Art. 88), whether weekends count as rest days, and the departments
    that apply the N24 acceptance rule are read at start; a malformed one stops it."""
    from datetime import time

    from core.cases.coercion import _is_night

    base = {"INSTANCE_PATH": str(tmp_path)}
    default = Settings.from_env(base)
    assert (default.summary_fine_max_person, default.summary_fine_max_organisation) == (200, 3000)
    assert default.enforcement_night == "22:00-06:00" and default.enforcement_rest_days
    assert default.complaint_acceptance_departments == ""
    custom = Settings.from_env({**base, "SUMMARY_FINE_MAX_PERSON": "500",
                                "ENFORCEMENT_NIGHT": "21:00-07:00",
                                "ENFORCEMENT_REST_DAYS": "false",
                                "COMPLAINT_ACCEPTANCE_DEPARTMENTS": "YYZJ"})
    assert custom.summary_fine_max_person == 500 and not custom.enforcement_rest_days
    assert custom.complaint_acceptance_departments == "YYZJ"
    window = (time(21), time(7))
    assert _is_night(time(21, 30), window) and _is_night(time(6, 59), window)
    assert not _is_night(time(7), window) and not _is_night(time(20, 59), window)
    assert default.seizure_handover_hours == 4  # N13 ⚠ Art. 24 当场交付, a local figure
    assert Settings.from_env({**base, "SEIZURE_HANDOVER_HOURS": "2"}).seizure_handover_hours == 2
    for bad in ({"SUMMARY_FINE_MAX_PERSON": "two hundred"}, {"ENFORCEMENT_NIGHT": "late"},
                {"ENFORCEMENT_REST_DAYS": "sometimes"}, {"SEIZURE_HANDOVER_HOURS": "0"},
                {"SEIZURE_HANDOVER_HOURS": "a few"}):
        with pytest.raises(SettingsError):
            Settings.from_env({**base, **bad})
