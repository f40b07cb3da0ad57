"""The embedded sandbox CRM: a real CRM data model in SQLite or PostgreSQL, crmconf's own."""

DEFAULT_TARGET = "sqlite:///.crmconf/sandbox.db"
"""The sandbox a command works on when no target is named: relative to the working folder."""
