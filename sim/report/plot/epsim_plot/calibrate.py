"""Figures from `epsim calibrate --csv` tables: measured against simulated.

Reads its csv: one row per measurement, columns file (the measured report
or log), where (its place: a run's strategy, ranks and tokens, or a log's
size), kind (what was timed), split (training: fitted on; held out: not),
measured_us, before_us and after_us (the simulated time with the
topology's figures before and after calibration), before_error and
after_error ((simulated - measured) / measured, as a fraction).

Figure: scatter (simulated against measured, log-log: hollow markers
before calibration, filled after, training in blue, held out in red, the
diagonal where they agree; the median |error| of each set in the legend).
"""

import math
import statistics

from . import style

SPLITS = [("training", "tab:blue", "o"), ("held out", "tab:red", "X")]


def rows_of(table):
    out = []
    for row in table.rows:
        if row["split"] not in ("training", "held out"):
            raise table.error(row, f"split '{row['split']}' is not training or held out")
        values = [table.number(row, c) for c in ("measured_us", "before_us", "after_us")]
        if min(values) < 0:
            raise table.error(row, "a negative time")
        out.append((row["split"], *values))
    return out


def median_error(points, index):
    errors = [abs(p[index] - p[1]) / p[1] for p in points if p[1] > 0]
    return 100 * statistics.median(errors) if errors else math.nan


def scatter(fig, tables, options):
    ax = fig.subplots()
    lo, hi = math.inf, 0.0
    for t, table in enumerate(tables):
        rows = [r for r in rows_of(table) if r[1] > 0]
        prefix = f"{table.label}: " if len(tables) > 1 else ""
        for split, colour, marker in SPLITS:
            sel = [r for r in rows if r[0] == split]
            if not sel:
                continue
            before = ax.scatter([r[1] for r in sel], [r[2] for r in sel], s=30, facecolors="none",
                                edgecolors=colour, marker="o",
                                label=f"{prefix}{split}, before (median |error| "
                                      f"{median_error(sel, 2):.1f}%)")
            before.set_gid(f"before:{prefix}{split}")
            after = ax.scatter([r[1] for r in sel], [r[3] for r in sel], s=30, color=colour,
                               marker=marker, label=f"{prefix}{split}, after (median |error| "
                                                   f"{median_error(sel, 3):.1f}%)")
            after.set_gid(f"after:{prefix}{split}")
            positive = [v for r in sel for v in r[1:] if v > 0]
            lo, hi = min([lo] + positive), max([hi] + positive)
    if hi == 0.0:
        raise tables[0].error(None, "no measurement above zero: nothing to draw")
    style.agreement_axes(ax, lo, hi, "measured time (us)", "simulated time (us)", "measurements")
    files = sorted({row["file"] for t in tables for row in t.rows})
    folders = sorted({f.rsplit("/", 1)[0] if "/" in f else "." for f in files})
    shown = (f"{len(files)} measured file{'s' if len(files) != 1 else ''} in "
             + ", ".join(folders[:3]) + (f" and {len(folders) - 3} more" if len(folders) > 3 else ""))
    style.title(fig, "simulated vs measured, before and after calibration: " + shown,
                "hollow: before; filled: after; on the diagonal the model equals the measurement",
                options.title)


FIGURES = {"scatter": scatter}
DEFAULT = "scatter"
SIZES = {"scatter": (10, 6)}
