"""The domain model: settings kinds, the desired configuration and the target's state."""
