"""The network as sympy: names of quantities, activations, losses, and the model built from a shape.

Nothing here sees a number: the model depends on the shape only, so it is built once per shape.
"""
