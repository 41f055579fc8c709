#!/usr/bin/env python3
"""Draws measured against simulated time, before and after calibration, from
the CSV `epsim calibrate --csv` writes.

Usage: plot_calibration.py ERRORS.csv OUT.png [--title T]

One panel per input group (the file's sweep: a measured report's strategy
and rank count, or a log's test), log-log, measured time on x and simulated
on y: hollow markers before calibration, filled after, the diagonal where
they agree; held-out measurements in red, training ones in blue. Exits 2
naming the file and line on a malformed CSV and writes no PNG (the figure
goes to a temporary name beside OUT.png and is renamed into place). Runs
with any python3 that has matplotlib (Debian: python3-matplotlib; Agg backend).
"""

import argparse
import csv
import math
import os
import sys
import tempfile

plt = None  # matplotlib.pyplot, imported once the arguments are read (--help needs none)

COLUMNS = ["file", "where", "kind", "split", "measured_us", "before_us", "after_us",
           "before_error", "after_error"]


def load_pyplot():
    """matplotlib's pyplot on the Agg backend, or exit naming the Debian package."""
    try:
        import matplotlib
    except ImportError:
        sys.exit("plot_calibration.py: needs matplotlib: apt install python3-matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def fail(message):
    print(f"plot_calibration.py: {message}", file=sys.stderr)
    sys.exit(2)


def read(path):
    rows = []
    try:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header != COLUMNS:
                fail(f"{path}: line 1: expected columns {','.join(COLUMNS)}")
            for line, row in enumerate(reader, start=2):
                if len(row) != len(COLUMNS):
                    fail(f"{path}: line {line}: {len(row)} fields, expected {len(COLUMNS)}")
                rec = dict(zip(COLUMNS, row))
                for key in ["measured_us", "before_us", "after_us"]:
                    try:
                        value = float(rec[key])
                    except ValueError:
                        fail(f"{path}: line {line}: {key} '{rec[key]}' is not a number")
                    if not math.isfinite(value) or value < 0:
                        fail(f"{path}: line {line}: {key} {value} is not a finite time")
                    rec[key] = value
                if rec["split"] not in ("training", "held out"):
                    fail(f"{path}: line {line}: split '{rec['split']}' is not training or held out")
                rows.append(rec)
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    if not rows:
        fail(f"{path}: no measurements")
    return rows


def group_of(rec):
    # "dedup, 2 ranks, 1024 tokens" -> "dedup, 2 ranks"; a log row -> its file.
    parts = rec["where"].split(", ")
    if len(parts) == 3 and parts[2].endswith("tokens"):
        return ", ".join(parts[:2])
    return os.path.basename(rec["file"]) + " " + rec["kind"]


def main():
    global plt
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("csv", help="CSV written by epsim calibrate --csv")
    parser.add_argument("png", help="PNG to write")
    parser.add_argument("--title", default="measured vs simulated", help="figure title")
    args = parser.parse_args()
    plt = load_pyplot()
    rows = read(args.csv)
    groups = sorted({group_of(r) for r in rows})
    cols = min(3, len(groups))
    nrows = (len(groups) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 4.5 * nrows), squeeze=False)
    for ax, group in zip(axes.flat, groups):
        pts = [r for r in rows if group_of(r) == group and r["measured_us"] > 0]
        lo = min(min(r["measured_us"], r["before_us"] or r["measured_us"], r["after_us"] or
                     r["measured_us"]) for r in pts)
        hi = max(max(r["measured_us"], r["before_us"], r["after_us"]) for r in pts)
        ax.plot([lo, hi], [lo, hi], color="0.6", linewidth=1)
        for split, color in [("training", "tab:blue"), ("held out", "tab:red")]:
            sel = [r for r in pts if r["split"] == split]
            if not sel:
                continue
            ax.scatter([r["measured_us"] for r in sel], [max(r["before_us"], lo) for r in sel],
                       facecolors="none", edgecolors=color, label=f"{split}, before")
            ax.scatter([r["measured_us"] for r in sel], [max(r["after_us"], lo) for r in sel],
                       color=color, marker="x" if split == "held out" else "o",
                       label=f"{split}, after")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(group, fontsize=9)
        ax.set_xlabel("measured (us)")
        ax.set_ylabel("simulated (us)")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    fig.suptitle(args.title)
    fig.tight_layout()
    directory = os.path.dirname(os.path.abspath(args.png))
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=directory)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, args.png)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


if __name__ == "__main__":
    main()
