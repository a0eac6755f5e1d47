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
