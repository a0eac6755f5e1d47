"""Import every model module so the metadata knows all tables (Alembic, tests)."""

from core.archive import models as archive_models
from core.cases import models as case_models
from core.complaints import models as complaint_models
from core.deadlines import models as deadline_models
from core.evidence import models as evidence_models
from core.ledger import models as ledger_models
from core.notices import models as notice_models
from core.people import models as people_models
from core.platform import idempotency, keyvalue
from core.rules import models as rule_models

__all__ = ["archive_models", "case_models", "complaint_models", "deadline_models",
           "evidence_models", "idempotency", "keyvalue", "ledger_models", "notice_models",
           "people_models", "rule_models"]
