"""sgdsde: continuous-time (ODE/SDE) models of stochastic optimisers and their weak errors.

Everything that computes lives here; the Snakemake rules and the notebooks only call it.
The modules follow the specs in ``shared/papers``; docstrings cite equations by spec section.
"""

__version__ = "0.1.0"
