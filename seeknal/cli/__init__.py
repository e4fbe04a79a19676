"""The command line: parse, call the core, render, exit."""
