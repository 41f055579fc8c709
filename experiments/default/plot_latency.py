#!/usr/bin/env python3
"""Plots per-layer and total MoE layer latency from an `epsim --format=csv` file.

Usage: plot_latency.py RESULTS.csv OUT.png [--title T]

Input is the csv format of sim/report (columns strategy, placement, layer,
phase, bytes, rows, time_us, start_us, end_us, max_rank, then busy_max_us,
busy_mean_us, then critical_us, wait_max_us, wait_mean_us): per-phase records
with a numeric layer, then totals with layer "all". Left panel: for each
layer, one stacked bar per run (strategy / placement) of dispatch, expert,
combine and other time (us). With the critical_us column (epsim since the
critical-path figures) the bars stack critical-path times, what each phase
adds to the pass, so a run's bars add up to its pass time; older files have
only spans (earliest start to latest end over ranks), which count rank skew
and overlap, so their bars can exceed the pass time. Right panel: each run's
time summed over layers, stacked the same way, with the total time marked.

Exits 2 with a message naming the file on a malformed CSV and writes no PNG
(the figure goes to a temporary name beside OUT.png and is renamed into place).
Runs with any python3 that has matplotlib (Debian: python3-matplotlib; Agg backend).
"""

import argparse
import csv
import os
import sys
import tempfile

plt = None  # matplotlib.pyplot, imported once the arguments are read (--help needs none)

COLUMNS = ["strategy", "placement", "layer", "phase", "bytes", "rows",
           "time_us", "start_us", "end_us", "max_rank"]
# Since the busy-time columns: the same, then per-rank busy max and mean.
BUSY_COLUMNS = COLUMNS + ["busy_max_us", "busy_mean_us"]
# Since the critical-path columns.
CRITICAL_COLUMNS = BUSY_COLUMNS + ["critical_us", "wait_max_us", "wait_mean_us"]
STACK = ["dispatch", "expert", "combine", "other"]
COLORS = {"dispatch": "#4c72b0", "expert": "#55a868",
          "combine": "#dd8452", "other": "#8c8c8c"}


def load_pyplot():
    """matplotlib's pyplot on the Agg backend, or exit naming the Debian package."""
    try:
        import matplotlib
    except ImportError:
        sys.exit("plot_latency.py: needs matplotlib: apt install python3-matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


class CsvError(Exception):
    pass


def stack_key(phase):
    return phase if phase in ("dispatch", "expert", "combine") else "other"


def parse_record(row, lineno, columns, runs, totals):
    """Adds one record to runs[run][layer][stack] or totals[run] (us)."""
    if len(row) != len(columns):
        raise CsvError(f"line {lineno}: {len(row)} fields, expected {len(columns)}")
    rec = dict(zip(columns, row))
    run = f"{rec['strategy']} / {rec['placement']}"
    column = "critical_us" if "critical_us" in rec else "time_us"
    try:
        time_us = float(rec[column])
    except ValueError:
        raise CsvError(f"line {lineno}: {column} '{rec[column]}' is not a number")
    if rec["layer"] == "all":
        if rec["phase"] == "total":
            totals[run] = time_us
        return
    if not rec["layer"].isdigit():
        raise CsvError(f"line {lineno}: layer '{rec['layer']}' is neither a number nor 'all'")
    layers = runs.setdefault(run, {})
    bars = layers.setdefault(int(rec["layer"]), dict.fromkeys(STACK, 0.0))
    bars[stack_key(rec["phase"])] += time_us


def read_results(path):
    """Returns ({run: {layer: {stack: us}}}, {run: total us}), runs in file order."""
    runs, totals = {}, {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header not in (COLUMNS, BUSY_COLUMNS, CRITICAL_COLUMNS):
            raise CsvError(f"line 1: header is not {','.join(CRITICAL_COLUMNS)} "
                           f"(or the same without the critical or the busy columns)")
        for row in reader:
            parse_record(row, reader.line_num, header, runs, totals)
    if not runs:
        raise CsvError("no per-layer records")
    return runs, totals


def draw_layers(ax, runs):
    names = list(runs)
    layers = sorted({layer for per_run in runs.values() for layer in per_run})
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs = [layer - 0.4 + width * (i + 0.5) for layer in layers]
        bottom = [0.0] * len(layers)
        for part in STACK:
            heights = [runs[name].get(layer, {}).get(part, 0.0) for layer in layers]
            ax.bar(xs, heights, width, bottom=bottom, color=COLORS[part],
                   edgecolor="white", linewidth=0.3,
                   hatch=None if i == 0 else "//" * i, label=part if i == 0 else None)
            bottom = [b + h for b, h in zip(bottom, heights)]
    ax.set_xticks(layers)
    ax.set_xlabel("MoE layer (transformer block)")
    ax.set_ylabel("phase time (us)")
    hatches = ", ".join(f"{n}: {'plain' if i == 0 else '//' * i}" for i, n in enumerate(names))
    ax.set_title(f"Per layer, one bar per run ({hatches})", fontsize=9)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.12)  # room for the legend above the bars
    ax.legend(title="phase", fontsize=8, ncol=len(STACK), loc="upper left")


def draw_totals(ax, runs, totals):
    names = list(runs)
    bottom = [0.0] * len(names)
    for part in STACK:
        heights = [sum(bars[part] for bars in runs[n].values()) for n in names]
        ax.bar(range(len(names)), heights, 0.6, bottom=bottom, color=COLORS[part], label=part)
        bottom = [b + h for b, h in zip(bottom, heights)]
    for i, name in enumerate(names):
        if name in totals:
            ax.plot([i - 0.35, i + 0.35], [totals[name]] * 2, color="black", linewidth=1.5)
            ax.annotate(f"{totals[name]:.1f} us", (i, totals[name]), ha="center",
                        va="bottom", fontsize=8, xytext=(0, 3), textcoords="offset points")
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("time summed over layers (us)")
    ax.set_title("Total per run (black line: pass time)", fontsize=9)


def plot(runs, totals, out_path, title):
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5),
                                      gridspec_kw={"width_ratios": [3, 1]})
    draw_layers(left, runs)
    draw_totals(right, runs, totals)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out_dir = os.path.dirname(os.path.abspath(out_path))
    fd, tmp = tempfile.mkstemp(suffix=".png", prefix=".plot_latency.", dir=out_dir)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a plot is for sharing
        os.replace(tmp, out_path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    global plt
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="csv written by epsim --format=csv or --csv")
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("--title", default="", help="figure title")
    args = parser.parse_args(argv)
    plt = load_pyplot()
    try:
        runs, totals = read_results(args.results)
    except OSError as e:
        print(f"plot_latency.py: {args.results}: {e.strerror}", file=sys.stderr)
        return 2
    except CsvError as e:
        print(f"plot_latency.py: {args.results}: {e}", file=sys.stderr)
        return 2
    plot(runs, totals, args.out, args.title)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
