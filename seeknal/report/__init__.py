"""Plan reports: a JSON-able model of a plan (model.py) rendered by Jinja templates (render.py)."""
