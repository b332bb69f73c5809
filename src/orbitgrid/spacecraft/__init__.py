"""spacecraft."""
