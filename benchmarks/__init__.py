"""Benchmarks of the reference engine and its checks, as ratios against peers run alongside.

Run ``python -m benchmarks --quick`` (a smoke run of seconds) or ``python -m benchmarks --full``.
Every figure is a median over interleaved rounds: each round runs every peer once, in a shuffled
order, so that machine noise (other processes on a shared 2-core machine) hits all peers alike, and
ratios are taken round by round before their median is reported.
"""
