"""The benchmarks behind ``neurojit bench WHAT``, one module each, outside the product's
own packages: the product never imports them (``commands/bench.py`` does, on demand).
Each measures against a baseline in the same run and returns plain data for ``--json``.
"""
