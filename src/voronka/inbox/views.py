"""Pages of this area."""
