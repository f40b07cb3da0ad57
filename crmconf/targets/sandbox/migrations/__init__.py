"""Alembic's script directory for the sandbox schema: one recorded revision per change."""
