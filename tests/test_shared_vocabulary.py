"""The matching benchmark keeps its own copy of the demo's trades (it must not import Flask): they stay equal."""

from bench import bench_matching
from tutorat import demo


def test_bench_uses_the_demo_trades():
    assert bench_matching.COMMON_METIERS == demo.COMMON_METIERS
