"""Python module for the ``tensorlang`` dialect namespace.

MLIR's Python bindings import ``<search prefix>.<dialect>`` to find op classes every
time they wrap an op of that dialect. Without a module to find, the failed import is
retried for every op (about 80 times per compile of a controller, ~6 ms); with this
module registered it is found once and cached. TensorLang ops use the generic
``ir.Operation`` API, so nothing else is needed here.
"""
