"""Measuring segmenters: parameters, FLOPs, latency, throughput, the video pipeline's frame
rate and the arithmetic floor of this machine (tools/analysis_tools/benchmark.py is its
command line), and the public code's formulation of PVTv2 to set them against.

Nothing in the rest of the package imports this one.
"""
