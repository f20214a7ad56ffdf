"""Every table, imported once so Base.metadata is complete (Alembic, tests)."""

from app.alerts import models as alerts_models
from app.annual import models as annual_models
from app.assistance import clearing_models as assistance_clearing_models
from app.assistance import deduction_models as assistance_deduction_models
from app.assistance import models as assistance_models
from app.assistance import person_models as assistance_person_models
from app.assistance import policy_models as assistance_policy_models
from app.assistance import statement_models as assistance_statement_models
from app.auth import models as auth_models
from app.bank import models as bank_models
from app.bankrecon import models as bankrecon_models
from app.daily import models as daily_models
from app.db import Base
from app.institutions import models as institutions_models
from app.ledger import models as ledger_models
from app.monthly import models as monthly_models
from app.scheduling import models as scheduling_models
from app.settlements import models as settlements_models
from app.trail import models as trail_models
from app.treasury import models as treasury_models
from app.workdays import models as workdays_models

__all__ = [
    "Base",
    "alerts_models",
    "annual_models",
    "assistance_clearing_models",
    "assistance_deduction_models",
    "assistance_models",
    "assistance_person_models",
    "assistance_policy_models",
    "assistance_statement_models",
    "auth_models",
    "bank_models",
    "bankrecon_models",
    "daily_models",
    "institutions_models",
    "ledger_models",
    "monthly_models",
    "scheduling_models",
    "settlements_models",
    "trail_models",
    "treasury_models",
    "workdays_models",
]
