"""sgdsde: continuous-time (ODE/SDE) models of stochastic optimisers and their weak errors.

Everything that computes lives here; the Snakemake rules and the notebooks only call it.
The methods of each paper are written up in ``docs/<paper>.md``.
"""

__version__ = "0.1.0"
