"""Every table, imported once so Base.metadata is complete (Alembic, tests)."""

from app.db import Base
from app.workdays import models as workdays_models

__all__ = ["Base", "workdays_models"]
