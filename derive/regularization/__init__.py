"""Regularisation as a vertical slice: its spec section, symbolic penalty steps, solvers, check and layout.

Each module sits at the layer of the stage it serves (the section beside the spec, the check beside
`numeric`, the layout beside `layout`); the core names the slice in few, explicit places.
"""
