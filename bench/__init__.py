"""Benchmarks of the push path against a naive baseline measured in the same run.

Run ``python -m bench`` (``make bench``); ``python -m bench --help`` lists the options.
"""
