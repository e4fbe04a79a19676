"""Everything under target/ is written here: atomic JSON, the lock, layout and promotion."""

# temp files are named with it, so recovery knows what an interrupted write left behind
TEMP_PREFIX = ".seeknal-tmp-"
