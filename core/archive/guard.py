"""The database's own guard for A34.1: no archived record is deleted or rewritten, whatever
program connects. Triggers (SQLite and PostgreSQL) refuse

- any UPDATE or DELETE of the afterlife's append-only tables (archive.models.APPEND_ONLY);
- any UPDATE or DELETE of a case's covered rows once a custodian accepted its dossier (a
  case's stage may still move to closed; everything else about it is fixed).

Installed by migration 0009. A forger with the right to drop triggers can remove them, which
is why the ledger (``flask ledger verify``) still checks every row.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from core.archive.models import APPEND_ONLY

MESSAGE = "A34.1: archived records are never deleted or rewritten"
# Covered tables of a case, and the column naming the case.
CASE_TABLES = {"records": "case_id", "approvals": "case_id", "signatures": "case_id",
               "refusals": "case_id", "stage_changes": "case_id", "evidence": "case_id"}
# cases: the stage is a projection of stage_changes and moves to closed after archiving.
CASE_COLUMNS = ("id", "department_id", "number", "year", "serial", "kind", "initiation",
                "title", "party_id", "site_lat", "site_lon", "site_datum", "site_address",
                "emergency", "opened_by", "opened_at", "retention_years")
ARCHIVED = "EXISTS (SELECT 1 FROM dossier_archivals a WHERE a.case_id = OLD.{col})"


def _sqlite(install: bool) -> list[str]:
    out = []
    raise_ = f"SELECT RAISE(ABORT, '{MESSAGE}');"
    for t in APPEND_ONLY:
        for op in ("UPDATE", "DELETE"):
            name = f"qc_guard_{t}_{op.lower()}"
            out.append(f"CREATE TRIGGER {name} BEFORE {op} ON {t} BEGIN {raise_} END"
                       if install else f"DROP TRIGGER IF EXISTS {name}")
    targets = [(t, c, "UPDATE") for t, c in CASE_TABLES.items()]
    targets += [(t, c, "DELETE") for t, c in CASE_TABLES.items()]
    targets += [("cases", "id", "UPDATE OF " + ", ".join(CASE_COLUMNS)), ("cases", "id", "DELETE")]
    for t, col, op in targets:
        name = f"qc_archived_{t}_{op.split()[0].lower()}"
        out.append(f"CREATE TRIGGER {name} BEFORE {op} ON {t} "
                   f"WHEN {ARCHIVED.format(col=col)} BEGIN {raise_} END"
                   if install else f"DROP TRIGGER IF EXISTS {name}")
    return out


PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION qc_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = '{MESSAGE} (' || TG_TABLE_NAME || ')',
    ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE FUNCTION qc_refuse_archived() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE cid text;
BEGIN
  -- No percent signs here: the DDL goes through the driver, which would read them.
  EXECUTE 'SELECT ($1).' || quote_ident(TG_ARGV[0]) || '::text' USING OLD INTO cid;
  IF EXISTS (SELECT 1 FROM dossier_archivals a WHERE a.case_id = cid) THEN
    RAISE EXCEPTION USING MESSAGE = '{MESSAGE} (' || TG_TABLE_NAME || ')',
    ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
""".replace("{MESSAGE}", MESSAGE)


def _postgres(install: bool) -> list[str]:
    out = [PG_FUNCTIONS] if install else []
    for t in APPEND_ONLY:
        out.append(f"CREATE TRIGGER qc_guard BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW "
                   "EXECUTE FUNCTION qc_refuse_change()"
                   if install else f"DROP TRIGGER IF EXISTS qc_guard ON {t}")
    for t, col in [*CASE_TABLES.items(), ("cases", "id")]:
        update = "UPDATE OF " + ", ".join(CASE_COLUMNS) if t == "cases" else "UPDATE"
        out.append(f"CREATE TRIGGER qc_archived BEFORE {update} OR DELETE ON {t} FOR EACH ROW "
                   f"EXECUTE FUNCTION qc_refuse_archived('{col}')"
                   if install else f"DROP TRIGGER IF EXISTS qc_archived ON {t}")
    if not install:
        out += ["DROP FUNCTION IF EXISTS qc_refuse_archived()",
                "DROP FUNCTION IF EXISTS qc_refuse_change()"]
    return out


def statements(dialect: str, *, install: bool = True) -> list[str]:
    """The DDL that installs (or removes) the guard on this database dialect."""
    return _postgres(install) if dialect == "postgresql" else _sqlite(install)


def install(conn: Connection) -> None:
    """Install the guard's triggers (migration 0009)."""
    for sql in statements(conn.dialect.name):
        conn.exec_driver_sql(sql)


def remove(conn: Connection) -> None:
    """Remove them (the migration's downgrade; a forger in the tamper tests)."""
    for sql in statements(conn.dialect.name, install=False):
        conn.exec_driver_sql(sql)
