"""Settings: read once from the environment into one frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET = "dev-secret-not-for-production"  # noqa: S105 - a marker production refuses
LEDGER_SUITES = ("sha256-ed25519", "sm3-sm2")  # core.ledger.algorithms.SUITES


HEARING_SETTINGS = ("hearing_fine_person_yuan", "hearing_fine_org_yuan",
                    "hearing_confiscation_person_yuan", "hearing_confiscation_org_yuan",
                    "remedy_review_days", "remedy_litigation_months",
                    "remedy_sue_after_review_days", "remedy_unstated_months")


class SettingsError(RuntimeError):
    """The environment cannot run the system as configured."""


@dataclass(frozen=True)
class Settings:
    """Every setting the system reads; unset means the embedded default."""

    app_env: str = "development"
    port: int = 5000
    database_url: str = ""
    redis_url: str = ""
    storage_url: str = ""
    secret_key: str = DEV_SECRET
    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    # A self-hosted Bot API server in --local mode lifts the 20 MB download limit; any other
    # base URL (a proxy to Telegram, as is usual in mainland China) keeps it.
    telegram_local_api: bool = False
    tz_legal: str = "Asia/Shanghai"
    instance_path: Path = PROJECT_ROOT / "instance"
    ledger_key_path: str = ""
    max_upload_bytes: int = 2 * 1024**3
    # Every route but the upload and image routes: the body limit, and how long a body may
    # stall between two reads (MAX_BODY_BYTES, BODY_READ_TIMEOUT; issue 12, finding 1).
    max_body_bytes: int = 1024**2
    body_read_timeout_s: float = 30.0
    # Reverse proxies in front whose X-Forwarded-For/-Proto are trusted (PROXY_HOPS).
    proxy_hops: int = 0
    # How long a new API token lives (TOKEN_TTL_DAYS; issue 12, finding 4).
    token_ttl_days: int = 180
    gps_radius_m: float = 200.0
    retention_years: int = 25  # A34.1
    ledger_origin: str = "quancheng"
    # Where officers reach this server, for one-time links (PUBLIC_URL); unset, the links use
    # http://127.0.0.1:PORT (effective_public_url). Kept empty here so that Socket.IO's origin
    # check and the Mini App button can tell "not configured".
    public_url: str = ""
    # The department code that takes complaints from the public (PUBLIC_DEPARTMENT).
    public_department: str = ""
    # An administrator's figures for the deadline rules, e.g. "N24=10,A17.2=2".
    deadline_overrides: str = ""
    # legal-b, figures RULES.md marks ⚠ (issue 10). N25: the largest fine on the spot,
    # 行政处罚法 (2021) Art. 51 (SUMMARY_FINE_MAX_PERSON / _ORGANISATION).
    summary_fine_max_person: int = 200
    summary_fine_max_organisation: int = 3000
    # N27: 行政强制法 Art. 43 forbids enforcement "at night" without defining it; 22:00–06:00
    # follows 噪声污染防治法 (2021) Art. 88 (ENFORCEMENT_NIGHT). ENFORCEMENT_REST_DAYS=false
    # would allow weekends that are not statutory holidays (⚠ reading of 法定节假日).
    enforcement_night: str = "22:00-06:00"
    enforcement_rest_days: bool = True
    # 行政强制法 Art. 24 "当场交付": the seizure decision and list are handed over during the
    # on-site record's time span; where the record states no end time, within these hours of
    # the measure (⚠ the law gives no figure: a local choice). SEIZURE_HANDOVER_HOURS env.
    seizure_handover_hours: int = 4
    # N24: the departments (codes, or *) that apply the market-regulation acceptance rule.
    complaint_acceptance_departments: str = ""
    # 行政处罚法 Art. 63 较大数额 (⚠ set by the province; defaults as 闽建 2021 for 住建):
    # fines and confiscations from these amounts carry the hearing right (N4). HEARING_* env.
    hearing_fine_person_yuan: int = 10_000
    hearing_fine_org_yuan: int = 100_000
    hearing_confiscation_person_yuan: int = 10_000
    hearing_confiscation_org_yuan: int = 100_000
    # N32 (⚠): the party's remedies: review 60 days (行政复议法 (2023) Art. 20), lawsuit 6
    # months (行政诉讼法 Art. 46), 15 days after a review decision (Art. 45), 1 year where the
    # decision did not state them (行政诉讼法解释 Art. 64). REMEDY_* env.
    remedy_review_days: int = 60
    remedy_litigation_months: int = 6
    remedy_sue_after_review_days: int = 15
    remedy_unstated_months: int = 12
    # The ledger's suite, chosen at installation: sha256-ed25519 or sm3-sm2 (国密).
    ledger_algorithms: str = "sha256-ed25519"
    # RFC 3161 timestamp authority for signed checkpoints (off when empty), and the PEM files
    # its tokens are checked against: the CA bundle (roots, intermediates) and the TSA's cert.
    tsa_url: str = ""
    tsa_ca_path: str = ""
    tsa_cert_path: str = ""
    # The S3-compatible evidence store of STORAGE_URL=s3://bucket/prefix (S3_* settings).
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_addressing_style: str = "auto"
    s3_lock_mode: str = "COMPLIANCE"
    s3_conditional_writes: bool = True
    # Where files are spooled while they arrive (partial resumable uploads among them); with
    # several web processes on several machines, a folder they all share (SPOOL_PATH).
    spool_path: str = ""

    @property
    def production(self) -> bool:
        """True when APP_ENV=production."""
        return self.app_env == "production"

    @property
    def legal_tz(self) -> ZoneInfo:
        """The time zone in which legal days are counted."""
        return ZoneInfo(self.tz_legal)

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file under instance/."""
        return self.database_url or f"sqlite:///{self.instance_path / 'quancheng.db'}"

    @property
    def effective_public_url(self) -> str:
        """PUBLIC_URL, or this machine's address on PORT (where `make run` serves): the base
        of every link the system hands out (sign-in, upload), with no trailing slash."""
        return (self.public_url.strip() or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def effective_storage_url(self) -> str:
        """STORAGE_URL, or the embedded blob folder under instance/."""
        return self.storage_url or f"file://{self.instance_path / 'blobs'}"

    @property
    def effective_ledger_key_path(self) -> Path:
        """Where the checkpoint key lives (Ed25519, or SM2 for the sm3-sm2 suite)."""
        default = "ledger_sm2.pem" if self.ledger_algorithms == "sm3-sm2" else "ledger_ed25519.pem"
        return Path(self.ledger_key_path or self.instance_path / default)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from the environment (or a given mapping)."""
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(name, "").strip() or default

        try:
            port = int(get("PORT", "5000"))
            max_upload = int(get("MAX_UPLOAD_BYTES", str(2 * 1024**3)))
            max_body = int(get("MAX_BODY_BYTES", str(1024**2)))
            body_timeout = float(get("BODY_READ_TIMEOUT", "30"))
            proxy_hops = int(get("PROXY_HOPS", "0"))
            token_ttl_days = int(get("TOKEN_TTL_DAYS", "180"))
            radius = float(get("GPS_RADIUS_M", "200"))
            retention = int(get("RETENTION_YEARS", "25"))
            hearing = {name: int(get(name.upper(), str(getattr(cls, name))))
                       for name in HEARING_SETTINGS}
        except ValueError as exc:
            raise SettingsError(f"a numeric setting is not a number: {exc}") from exc
        if any(v < 1 for v in hearing.values()):
            raise SettingsError("HEARING_* and REMEDY_* figures must be whole numbers >= 1")
        style = get("S3_ADDRESSING_STYLE", "auto").lower()
        if style not in ("auto", "path", "virtual"):
            raise SettingsError("S3_ADDRESSING_STYLE must be auto, path or virtual")
        lock_mode = get("S3_LOCK_MODE", "COMPLIANCE").upper()
        if lock_mode not in ("COMPLIANCE", "GOVERNANCE"):
            raise SettingsError("S3_LOCK_MODE must be COMPLIANCE or GOVERNANCE")
        conditional = get("S3_CONDITIONAL_WRITES", "true").lower()
        if conditional not in ("true", "false", "1", "0", "yes", "no"):
            raise SettingsError("S3_CONDITIONAL_WRITES must be true or false")
        tz = get("TZ_LEGAL", "Asia/Shanghai")
        try:
            ZoneInfo(tz)
        except Exception as exc:  # ZoneInfo raises several types for bad keys
            raise SettingsError(f"TZ_LEGAL={tz!r} is not a known time zone") from exc
        algorithms = get("LEDGER_ALGORITHMS", "sha256-ed25519").lower()
        if algorithms not in LEDGER_SUITES:
            raise SettingsError(f"LEDGER_ALGORITHMS={algorithms!r} is unknown: use "
                                f"{' or '.join(LEDGER_SUITES)}")
        settings = cls(
            app_env=get("APP_ENV", "development"),
            port=port,
            database_url=get("DATABASE_URL"),
            redis_url=get("REDIS_URL"),
            storage_url=get("STORAGE_URL"),
            secret_key=get("SECRET_KEY", DEV_SECRET),
            telegram_token=get("TELEGRAM_TOKEN"),
            telegram_webhook_secret=get("TELEGRAM_WEBHOOK_SECRET"),
            telegram_api_base_url=get("TELEGRAM_API_BASE_URL", "https://api.telegram.org").rstrip("/"),
            telegram_local_api=get("TELEGRAM_LOCAL_API", "").lower() in ("1", "true", "yes"),
            tz_legal=tz,
            instance_path=Path(get("INSTANCE_PATH", str(PROJECT_ROOT / "instance"))),
            ledger_key_path=get("LEDGER_KEY_PATH"),
            max_upload_bytes=max_upload,
            max_body_bytes=max_body,
            body_read_timeout_s=body_timeout,
            proxy_hops=proxy_hops,
            token_ttl_days=token_ttl_days,
            gps_radius_m=radius,
            retention_years=retention,
            public_url=get("PUBLIC_URL").rstrip("/"),
            public_department=get("PUBLIC_DEPARTMENT"),
            deadline_overrides=get("DEADLINE_OVERRIDES"),
            **_legal_b(get),
            ledger_algorithms=algorithms,
            tsa_url=get("TSA_URL"),
            tsa_ca_path=get("TSA_CA_PATH"),
            tsa_cert_path=get("TSA_CERT_PATH"),
            s3_endpoint_url=get("S3_ENDPOINT_URL"),
            s3_region=get("S3_REGION"),
            s3_access_key_id=get("S3_ACCESS_KEY_ID"),
            s3_secret_access_key=get("S3_SECRET_ACCESS_KEY"),
            s3_addressing_style=style,
            s3_lock_mode=lock_mode,
            s3_conditional_writes=conditional in ("true", "1", "yes"),
            spool_path=get("SPOOL_PATH"),
            **hearing,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse embedded defaults and development secrets in production."""
        if not self.production:
            return
        problems = []
        if not self.database_url:
            problems.append("DATABASE_URL is unset (embedded SQLite is for development)")
        elif self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL points at SQLite; production needs PostgreSQL")
        if not self.redis_url:
            problems.append("REDIS_URL is unset (the in-process queue is for development)")
        if not self.storage_url:
            problems.append("STORAGE_URL is unset (set it to the mounted evidence volume)")
        elif self.storage_url.startswith("s3://") and not self.spool_path:
            problems.append("SPOOL_PATH is unset (with an S3 store, files are received into a "
                            "folder every web process shares)")
        if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
            problems.append("SECRET_KEY is the development secret or shorter than 32 characters")
        if self.telegram_token and not self.telegram_webhook_secret:
            problems.append("TELEGRAM_TOKEN is set but TELEGRAM_WEBHOOK_SECRET is not")
        if not self.ledger_key_path:
            problems.append("LEDGER_KEY_PATH is unset (the checkpoint signing key must be managed)")
        if self.tsa_url and not self.tsa_ca_path:
            problems.append("TSA_URL is set but TSA_CA_PATH is not (timestamps must be checked "
                            "against the authority's CA)")
        if problems:
            raise SettingsError(
                "APP_ENV=production refuses to start: " + "; ".join(problems) + "."
            )

    def __repr__(self) -> str:
        """Never show secrets."""
        db = _redact(self.effective_database_url)
        return f"Settings(app_env={self.app_env!r}, database={db})"


def _redact(url: str) -> str:
    """Hide the password part of a URL."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _legal_b(get) -> dict:
    """The ⚠ legal figures of issue 10 (N25, N27, N24, N13's handover), checked at start."""
    try:
        person = int(get("SUMMARY_FINE_MAX_PERSON", "200"))
        organisation = int(get("SUMMARY_FINE_MAX_ORGANISATION", "3000"))
    except ValueError as exc:
        raise SettingsError(f"a summary-procedure limit is not a number: {exc}") from exc
    night = get("ENFORCEMENT_NIGHT", "22:00-06:00")
    parts = night.split("-")
    try:
        if len(parts) != 2:
            raise ValueError(night)
        for part in parts:
            time.fromisoformat(part.strip())
    except ValueError as exc:
        raise SettingsError(f"ENFORCEMENT_NIGHT={night!r} is not HH:MM-HH:MM") from exc
    try:
        handover = int(get("SEIZURE_HANDOVER_HOURS", "4"))
        if not 1 <= handover <= 24:
            raise ValueError(handover)
    except ValueError as exc:
        raise SettingsError("SEIZURE_HANDOVER_HOURS must be a whole number of hours, 1–24"
                            ) from exc
    rest = get("ENFORCEMENT_REST_DAYS", "true").lower()
    if rest not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError("ENFORCEMENT_REST_DAYS must be true or false")
    return {"summary_fine_max_person": person,
            "summary_fine_max_organisation": organisation,
            "enforcement_night": night, "enforcement_rest_days": rest in ("true", "1", "yes"),
            "seizure_handover_hours": handover,
            "complaint_acceptance_departments": get("COMPLAINT_ACCEPTANCE_DEPARTMENTS")}
