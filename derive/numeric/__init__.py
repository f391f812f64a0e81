"""Numbers: the derivation compiled once and called with a spec's values; the independent check of
every number (numpy and finite differences); the numerical minimisers the regularisation slice uses.
"""
