"""Testing data with pytest: the plugin seeknal installs (seeknal/testing/plugin.py)."""
