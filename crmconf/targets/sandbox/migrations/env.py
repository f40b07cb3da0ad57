"""Alembic's environment: run the revisions on the connection crmconf hands over, inside
its transaction (crmconf.targets.sandbox.migrations.upgrade)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
