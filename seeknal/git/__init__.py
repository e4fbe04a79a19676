"""Git access through pygit2 (the only module importing it)."""
