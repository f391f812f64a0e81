"""Writing results: Jinja2 templates, TeX, and output folders that are never left half-written."""
