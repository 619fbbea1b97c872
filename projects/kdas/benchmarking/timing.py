"""Timing one call: the median (or another reduction) of repeated calls after warm-up."""
import statistics
import time


def median_seconds(run, inputs, repeats: int, sync=lambda: None, warmup: int = 3,
                   reduce=statistics.median) -> float:
    for _ in range(warmup):
        run(inputs)
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        run(inputs)
        sync()
        times.append(time.perf_counter() - start)
    return reduce(times)
