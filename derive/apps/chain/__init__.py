"""`derive chain` and `derive jacobian`: the chain rule and Jacobians of any expression.

They need only printing, layout blocks and output, not the network's model or verifier.
"""
