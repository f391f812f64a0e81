"""Modules in the spec (`[[module]]`: dense, conv1d, conv2d, pooling, flatten, residual, rnn): one
vertical slice, each module at the stage it serves — section (beside spec), graph (the model as
scalar sympy expressions), derivation (the step records), verify (an independent numpy
implementation and finite differences), solution (the key), printing, layout."""
