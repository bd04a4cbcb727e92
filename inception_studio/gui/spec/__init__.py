"""Spec browsing and editing panels (Explore workspace): variants, editor, inspector, statistics,
block table, compare."""
