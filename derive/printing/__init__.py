"""Every LaTeX string about mathematics: numbers, names, expressions, matrices, widths.

Templates and layouts place what these modules print; nothing else builds mathematical LaTeX.
"""
