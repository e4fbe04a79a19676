"""Everything under target/ is written here: atomic JSON, the lock, layout and promotion."""
