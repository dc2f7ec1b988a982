"""Workflows as code: YAML in, validated domain objects out."""
