"""The recorded revisions of the sandbox schema, oldest first."""
