"""Python homes of our MLIR dialect namespaces (see tensorlang.py)."""
