"""Bare endpoints for the load benchmark (benchmarks/load.py): served by the same process,
middleware and server as the product, each doing an endpoint's main SELECT by hand."""
