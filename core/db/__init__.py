"""Persistence: SQLAlchemy 2 (async) tables, repositories, the unit of work, migrations.

SQLAlchemy is used only inside this package; the rest of ``core`` sees pydantic models.
"""
