"""Every table, imported once so Base.metadata is complete (Alembic, tests)."""

from app.alerts import models as alerts_models
from app.auth import models as auth_models
from app.db import Base
from app.institutions import models as institutions_models
from app.ledger import models as ledger_models
from app.monthly import models as monthly_models
from app.settlements import models as settlements_models
from app.trail import models as trail_models
from app.workdays import models as workdays_models

__all__ = [
    "Base",
    "alerts_models",
    "auth_models",
    "institutions_models",
    "ledger_models",
    "monthly_models",
    "settlements_models",
    "trail_models",
    "workdays_models",
]
