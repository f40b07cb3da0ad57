"""Reading configuration files: YAML with locations, the document model, the schema."""
