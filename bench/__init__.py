"""swiftw's benchmark lab (not installed): the harness, the NumPy reference and the peers.

Run it from the repository root as ``python -m bench`` (``make bench`` installs swiftw first).
"""
