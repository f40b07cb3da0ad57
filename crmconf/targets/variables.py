"""The environment variables that name targets, kept apart so that any target module can
read them without importing the registry of targets (crmconf.targets)."""

TARGET_VARIABLE = "CRMCONF_TARGET"
"""The target a command works on when --target is not given."""
STATE_VARIABLE = "CRMCONF_STATE"
"""A PostgreSQL URL holding locks, history, confirmations and request budgets for targets
that keep none of their own (crmconf.targets.state_backend)."""
