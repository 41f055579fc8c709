#!/usr/bin/env python3
"""plot_latency.py stacks critical-path times when the csv has them (so a
run's bars add up to its pass time) and spans when it has not."""

import argparse
import importlib.util
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
spec = importlib.util.spec_from_file_location(
    "plot_latency", os.path.join(ROOT, "experiments", "default", "plot_latency.py"))
plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot)

HEADER = ("strategy,placement,layer,phase,bytes,rows,time_us,start_us,end_us,max_rank,"
          "busy_max_us,busy_mean_us,critical_us,wait_max_us,wait_mean_us\n")
# Rank skew: spans 30 + 40 + 10 = 80 us, critical path 30 + 20 + 10 = 60 us.
ROWS = ("c,p,0,expert,0,0,30.0,0.0,30.0,0,30.0,20.0,30.0,0.0,0.0\n"
        "c,p,0,combine,2000,2,40.0,10.0,50.0,1,40.0,30.0,20.0,20.0,10.0\n"
        "c,p,0,unpermute_reduce,0,0,10.0,50.0,60.0,0,10.0,10.0,10.0,0.0,0.0\n"
        "c,p,all,total,2000,2,60.0,,,,,,60.0,,\n")


def read(text):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write(text)
    try:
        return plot.read_results(f.name)
    finally:
        os.remove(f.name)


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    runs, totals = read(HEADER + ROWS)
    bars = runs["c / p"][0]
    assert bars == {"dispatch": 0.0, "expert": 30.0, "combine": 20.0, "other": 10.0}, bars
    assert sum(bars.values()) == totals["c / p"] == 60.0, (bars, totals)
    # The same records without the critical columns: spans, 80 us of bars.
    old_header = ",".join(HEADER.strip().split(",")[:12]) + "\n"
    old_rows = "".join(",".join(r.split(",")[:12]) + "\n" for r in ROWS.splitlines())
    runs, totals = read(old_header + old_rows)
    assert sum(runs["c / p"][0].values()) == 80.0, runs
    print("plot_latency_test: ok")


if __name__ == "__main__":
    sys.exit(main())
