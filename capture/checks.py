"""Evidence checks (type, place, time, timeliness, editing, duplicate) and the assurance level.

Each check returns a ``Check`` with a short English sentence with numbers and the same in
Chinese for the bot. ``assess`` folds the checks into one assurance level:

- ``failed``: the file contradicts the claim: its content is another kind of media than
  declared (``type``), it was taken outside the site radius (``gps_distance``), or its
  capture time is impossible, i.e. after the upload or long before the case (``capture_time``).
- ``unverified``: nothing to verify against: the file states neither when nor where it was
  captured (a photo sent through Telegram as a compressed photo has no EXIF at all), or its
  metadata could not be read.
- ``verified``: every check passed, including a GPS position inside the site radius and a
  plausible capture time.
- ``partial``: anything else: some facts check out, others are missing or only warn (no GPS,
  editing software, duplicate), or the A31.1 upload deadline was missed (a late upload does
  not make the file less genuine, so it lowers the level but is not ``failed``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from capture.datum import distance_m, to_wgs84
from capture.model import Metadata
from capture.sniff import TYPES, TypeVerdict
from capture.wording import duration, duration_zh, metres, metres_zh

LEGAL_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_RADIUS_M = 200.0
DEFAULT_MAX_SKEW = timedelta(minutes=5)
# Pre-filing checks may take 15 days +10 (RULES N23): evidence older than this is suspicious.
DEFAULT_MAX_BEFORE_CASE = timedelta(days=30)
UPLOAD_LIMIT_WORKING_DAYS = 2  # A31.1
PROVENANCE = ("type", "gps_distance", "capture_time")
CHECK_NAMES = ("type", "gps_distance", "capture_time", "upload_delay", "editing_software",
               "duplicate")

# Case-insensitive substrings of the EXIF/QuickTime Software tag, with the name shown.
KNOWN_EDITORS: tuple[tuple[str, str], ...] = (
    ("photoshop", "Adobe Photoshop"), ("lightroom", "Adobe Lightroom"),
    ("premiere", "Adobe Premiere"), ("after effects", "Adobe After Effects"),
    ("adobe express", "Adobe Express"), ("snapseed", "Snapseed"), ("美图", "美图秀秀 (Meitu)"),
    ("meitu", "Meitu"), ("醒图", "醒图 (Hypic)"), ("hypic", "Hypic"), ("xingtu", "醒图"),
    ("picsart", "PicsArt"), ("gimp", "GIMP"), ("vsco", "VSCO"), ("canva", "Canva"),
    ("剪映", "剪映 (CapCut)"), ("capcut", "CapCut"), ("final cut", "Final Cut"),
    ("imovie", "iMovie"), ("davinci", "DaVinci Resolve"), ("affinity", "Affinity Photo"),
    ("pixelmator", "Pixelmator"), ("faceapp", "FaceApp"), ("inshot", "InShot"),
    ("kinemaster", "KineMaster"), ("快影", "快影"), ("必剪", "必剪"), ("polarr", "Polarr"),
    ("泼辣修图", "泼辣修图 (Polarr)"), ("fotor", "Fotor"), ("photoroom", "PhotoRoom"),
    ("wink", "Wink"), ("paint.net", "Paint.NET"), ("corel", "Corel"),
    # Transcoders: not retouching, but the file is no longer what the camera wrote.
    ("lavf", "FFmpeg (re-encoded)"), ("ffmpeg", "FFmpeg (re-encoded)"),
    ("handbrake", "HandBrake (re-encoded)"),
)

AddWorkingDays = Callable[[date, int], date]


@dataclass(frozen=True)
class Check:
    """One check on an evidence file."""

    name: str
    status: str  # "pass" | "warn" | "fail"
    detail: str
    detail_zh: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Site:
    """The case site, in the datum it was given in (wgs84, gcj02 or bd09)."""

    lat: float
    lon: float
    datum: str = "wgs84"


@dataclass(frozen=True)
class ReportedLocation:
    """Where the phone said it was at upload time (WGS-84), with its accuracy in metres."""

    lat: float
    lon: float
    accuracy: float | None = None


@dataclass(frozen=True)
class Assurance:
    """The assurance level of an evidence item and why."""

    level: str  # "verified" | "partial" | "unverified" | "failed"
    reason: str
    reason_zh: str


def _aware(name: str, dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return dt


def capture_instant(md: Metadata, assume_tz: tzinfo = LEGAL_TZ) -> tuple[datetime | None, str]:
    """The capture time as an aware datetime, and a note when its zone had to be assumed."""
    if md.taken_at is not None:
        return md.taken_at, ""
    if md.taken_at_local:
        local = datetime.fromisoformat(md.taken_at_local).replace(tzinfo=assume_tz)
        return local, f" (time zone not recorded; read as {assume_tz})"
    return None, ""


def weekend_only_add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start``, counting Monday to Friday only."""
    if n < 0:
        raise ValueError("n must be >= 0")
    d = start
    while n:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def type_check(verdict: TypeVerdict) -> Check:
    """Does the content match its file name and declared type?"""
    if verdict.status == "pass":
        return Check("type", "pass", verdict.detail,
                     f"文件内容为{verdict.mime}，与文件名和声明类型一致")
    zh = f"文件内容为{verdict.mime}（{verdict.sniffed.detail}），与文件名或声明类型不符"
    return Check("type", verdict.status, verdict.detail, zh)


def gps_distance_check(
    md: Metadata, site: Site | None, *, radius_m: float = DEFAULT_RADIUS_M,
    reported: ReportedLocation | None = None,
) -> Check:
    """Was the file captured within ``radius_m`` of the site (after datum conversion)?"""
    if site is None:
        return Check("gps_distance", "warn", "the case has no site coordinates to compare with",
                     "案件未设置现场坐标，无法比对位置")
    site_wgs = to_wgs84(site.lat, site.lon, site.datum)
    converted = "" if site.datum.lower() == "wgs84" else f", site converted from {site.datum}"
    if md.gps is None:
        if reported is None:
            return Check("gps_distance", "warn", "no GPS position in the file",
                         "文件中没有GPS位置信息")
        d = distance_m((reported.lat, reported.lon), site_wgs)
        acc = f" (±{reported.accuracy:.0f} m)" if reported.accuracy is not None else ""
        acc_zh = f"（±{reported.accuracy:.0f}米）" if reported.accuracy is not None else ""
        return Check(
            "gps_distance", "warn",
            f"no GPS in the file; at upload the phone reported {metres(d)}{acc} from the site",
            f"文件中没有GPS位置；上传时手机报告的位置距现场{metres_zh(d)}{acc_zh}",
        )
    d = distance_m((md.gps.lat, md.gps.lon), site_wgs)
    acc = md.gps.accuracy
    acc_txt = f"±{acc:.0f} m, " if acc is not None else ""
    acc_zh = f"精度±{acc:.0f}米，" if acc is not None else ""
    note, note_zh = _reported_note(md, reported, radius_m)
    if d <= radius_m:
        return Check("gps_distance", "pass",
                     f"GPS {metres(d)} from the site ({acc_txt}radius {radius_m:.0f} m"
                     f"{converted}){note}",
                     f"GPS位置距现场{metres_zh(d)}（{acc_zh}允许半径{radius_m:.0f}米）{note_zh}")
    if acc is not None and d - acc <= radius_m:
        return Check("gps_distance", "warn",
                     f"GPS {metres(d)} from the site: inside the {radius_m:.0f} m radius only "
                     f"within its ±{acc:.0f} m accuracy{note}",
                     f"GPS位置距现场{metres_zh(d)}，仅在±{acc:.0f}米精度范围内才处于"
                     f"{radius_m:.0f}米半径内{note_zh}")
    return Check("gps_distance", "fail",
                 f"GPS {metres(d)} from the site ({acc_txt}radius {radius_m:.0f} m{converted})"
                 f"{note}",
                 f"GPS位置距现场{metres_zh(d)}，超出允许半径{radius_m:.0f}米{note_zh}")


def _reported_note(md: Metadata, reported: ReportedLocation | None,
                   radius_m: float) -> tuple[str, str]:
    # At upload the phone may be elsewhere (back at the office): only mention a mismatch.
    if reported is None or md.gps is None:
        return "", ""
    d = distance_m((md.gps.lat, md.gps.lon), (reported.lat, reported.lon))
    slack = radius_m + (md.gps.accuracy or 0) + (reported.accuracy or 0)
    if d <= slack:
        return "", ""
    return (f"; at upload the phone reported a position {metres(d)} from the file's GPS",
            f"；上传时手机报告的位置与文件GPS相距{metres_zh(d)}")


def capture_time_check(
    md: Metadata, *, received_at: datetime, case_opened_at: datetime | None = None,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    max_before_case: timedelta = DEFAULT_MAX_BEFORE_CASE, assume_tz: tzinfo = LEGAL_TZ,
) -> Check:
    """Is there a capture time, not in the future and not long before the case opened?"""
    _aware("received_at", received_at)
    taken, note = capture_instant(md, assume_tz)
    if taken is None:
        return Check("capture_time", "warn",
                     "no capture time in the file; the officer must state it (A31.1)",
                     "文件中没有拍摄时间，须由执法人员填写（A31.1）")
    note_zh = "（文件未记录时区，按北京时间理解）" if note else ""
    ahead = taken - received_at
    if ahead > max_skew:
        return Check("capture_time", "fail",
                     f"capture time is {duration(ahead)} after the upload (allowed clock skew "
                     f"{duration(max_skew)}){note}",
                     f"拍摄时间晚于上传时间{duration_zh(ahead)}（允许误差{duration_zh(max_skew)}）"
                     f"{note_zh}")
    if case_opened_at is not None:
        early = _aware("case_opened_at", case_opened_at) - taken
        if early > max_before_case:
            return Check("capture_time", "fail",
                         f"taken {duration(early)} before the case was opened (allowed "
                         f"{duration(max_before_case)}){note}",
                         f"拍摄时间早于立案{duration_zh(early)}（允许{duration_zh(max_before_case)}）"
                         f"{note_zh}")
    if ahead > timedelta(0):
        return Check("capture_time", "pass",
                     f"taken {duration(ahead)} after the upload time, within the allowed clock "
                     f"skew{note}",
                     f"拍摄时间略晚于上传时间{duration_zh(ahead)}，在允许误差内{note_zh}")
    return Check("capture_time", "pass", f"taken {duration(ahead)} before upload{note}",
                 f"拍摄于上传前{duration_zh(ahead)}{note_zh}")


def upload_delay_check(
    md: Metadata, *, stored_at: datetime,
    add_working_days: AddWorkingDays = weekend_only_add_working_days,
    limit_working_days: int = UPLOAD_LIMIT_WORKING_DAYS, legal_tz: tzinfo = LEGAL_TZ,
) -> Check:
    """A31.1: was the file stored within ``limit_working_days`` working days of capture?"""
    _aware("stored_at", stored_at)
    taken, note = capture_instant(md, legal_tz)
    if taken is None:
        return Check("upload_delay", "warn",
                     "no capture time in the file, so the A31.1 upload deadline cannot be "
                     "checked", "文件中没有拍摄时间，无法核对A31.1规定的上传期限")
    # Periods count from the day after the capture day, in the legal time zone (RULES part 2).
    deadline = add_working_days(taken.astimezone(legal_tz).date(), limit_working_days)
    stored_day = stored_at.astimezone(legal_tz).date()
    delay = stored_at - taken
    if delay < -DEFAULT_MAX_SKEW:
        # An impossible capture time is capture_time's failure; here it only blocks the count.
        return Check("upload_delay", "warn",
                     f"the capture time is {duration(delay)} after storage, so the A31.1 delay "
                     f"cannot be measured{note}",
                     f"拍摄时间晚于上传时间{duration_zh(delay)}，无法核对A31.1上传期限")
    delay = max(delay, timedelta(0))
    if stored_day <= deadline:
        return Check("upload_delay", "pass",
                     f"stored {duration(delay)} after capture, within {limit_working_days} "
                     f"working days (deadline {deadline.isoformat()}){note}",
                     f"拍摄后{duration_zh(delay)}上传，在{limit_working_days}个工作日期限内"
                     f"（截止{deadline.isoformat()}）")
    return Check("upload_delay", "fail",
                 f"stored {duration(delay)} after capture; A31.1 requires storage within "
                 f"{limit_working_days} working days (deadline {deadline.isoformat()}){note}",
                 f"拍摄后{duration_zh(delay)}才上传，超过A31.1规定的{limit_working_days}个工作日"
                 f"（截止{deadline.isoformat()}）")


def _zh(name: str) -> str:
    """An editor's name as a Chinese sentence shows it."""
    return name.replace(" (re-encoded)", "（已重新编码）")


def editing_software_check(md: Metadata, *,
                           editors: Iterable[tuple[str, str]] = KNOWN_EDITORS) -> Check:
    """Does the Software tag name a known photo/video editor or transcoder?"""
    sw = md.software
    if not sw:
        return Check("editing_software", "pass", "no Software tag in the file",
                     "文件未记录处理软件")
    low = sw.lower()
    for needle, name in editors:
        if needle.lower() in low:
            return Check("editing_software", "warn",
                         f"Software tag {sw!r} names {name}: the file was saved by an editor; "
                         f"keep the camera original as well",
                         f"软件标签“{sw}”表明文件经{_zh(name)}保存，请同时提交相机原始文件")
    return Check("editing_software", "pass", f"no editing software recorded (Software: {sw})",
                 f"未发现编辑软件（软件标签：{sw}）")


def duplicate_check(existing_evidence_id: object | None, *, sha256: str | None = None) -> Check:
    """Is the same file (same SHA-256) already stored as evidence?"""
    short = f" (SHA-256 {sha256[:8]})" if sha256 else ""
    if existing_evidence_id is None:
        return Check("duplicate", "pass", f"no earlier evidence has the same content{short}",
                     f"未发现内容相同的已存证据{short}")
    return Check("duplicate", "warn",
                 f"the same file is already stored as evidence {existing_evidence_id}{short}",
                 f"相同文件已作为证据{existing_evidence_id}保存{short}")


def run_checks(
    md: Metadata, verdict: TypeVerdict, *, received_at: datetime,
    site: Site | None = None, stored_at: datetime | None = None,
    case_opened_at: datetime | None = None, existing_evidence_id: object | None = None,
    sha256: str | None = None, reported: ReportedLocation | None = None,
    radius_m: float = DEFAULT_RADIUS_M, max_skew: timedelta = DEFAULT_MAX_SKEW,
    max_before_case: timedelta = DEFAULT_MAX_BEFORE_CASE,
    add_working_days: AddWorkingDays = weekend_only_add_working_days,
    legal_tz: tzinfo = LEGAL_TZ,
) -> list[Check]:
    """All six checks in their fixed order (``stored_at`` defaults to ``received_at``)."""
    return [
        type_check(verdict),
        gps_distance_check(md, site, radius_m=radius_m, reported=reported),
        capture_time_check(md, received_at=received_at, case_opened_at=case_opened_at,
                           max_skew=max_skew, max_before_case=max_before_case,
                           assume_tz=legal_tz),
        upload_delay_check(md, stored_at=stored_at or received_at,
                           add_working_days=add_working_days, legal_tz=legal_tz),
        editing_software_check(md),
        duplicate_check(existing_evidence_id, sha256=sha256),
    ]


def assess(checks: Iterable[Check], md: Metadata) -> Assurance:
    """Fold checks and metadata into an assurance level with its reason (module docstring)."""
    checks = list(checks)
    failed = [c for c in checks if c.status == "fail" and c.name in PROVENANCE]
    if failed:
        return Assurance("failed", "; ".join(f"{c.name}: {c.detail}" for c in failed),
                         "；".join(c.detail_zh for c in failed))
    unreadable = [e for e in md.errors if e.startswith("metadata unreadable")]
    if unreadable:
        return Assurance("unverified", unreadable[0], "无法读取文件的拍摄信息")
    if not md.has_capture_metadata:
        family = TYPES[md.media_type].family if md.media_type in TYPES else ""
        if family == "image" and not md.has_exif:
            return Assurance(
                "unverified",
                "the photo has no EXIF at all, so neither time nor place can be verified; "
                "Telegram removes EXIF from photos sent as photos: send the original as a file",
                "照片没有任何EXIF信息，无法核实拍摄时间和地点；Telegram会删除以“照片”方式发送的"
                "EXIF，请以“文件”方式发送原图")
        if family == "document":
            return Assurance("unverified", "documents carry no capture time or place",
                             "文书文件不含拍摄时间和地点")
        return Assurance("unverified", "the file states neither when nor where it was captured",
                         "文件未记录拍摄时间和地点")
    by_name = {c.name: c for c in checks}
    not_passed = [c for c in checks if c.status != "pass"]
    core_ok = all(by_name.get(n) is not None and by_name[n].status == "pass"
                  for n in ("gps_distance", "capture_time"))
    if core_ok and not not_passed:
        return Assurance("verified", "time, place, type and integrity checks all passed",
                         "时间、地点、类型等各项核验均通过")
    return Assurance("partial", "; ".join(f"{c.name} {c.status}: {c.detail}" for c in not_passed)
                     or "time or place was not checked",
                     "；".join(c.detail_zh for c in not_passed) or "未核验时间或地点")


def assurance(checks: Iterable[Check], md: Metadata) -> str:
    """The assurance level alone: "verified", "partial", "unverified" or "failed"."""
    return assess(checks, md).level
