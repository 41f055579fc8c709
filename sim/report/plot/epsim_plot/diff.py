"""Figures from `epsim diff` tables: report A against report B.

Reads the csv of `epsim diff A B --format csv`: rows of a_strategy,
a_placement, b_strategy, b_placement, layer (a number, or `all` for totals
per phase kind), phase, metric (busy_max, busy_mean, total_time, or
weighted_error on the run's summary row), a_us and b_us (A's and B's time),
error_pct ((A - B) / B in %: A's error when B, the second report, is the
measurement, as epsim diff asks).

Figure: scatter (A against B, log-log: B, the reference, on x; one marker
per phase kind and layer on the busy_max metric, a star for the pass time;
the diagonal where they agree, the run's weighted error in the legend).
"""

import math

from . import style


def runs_of(table):
    """{run name: {"points": [(phase, layer, a, b)], "total": (a, b), "error": pct}}."""
    runs = {}
    for row in table.rows:
        name = row["a_strategy"] + (f" / {row['b_strategy']}"
                                    if row["b_strategy"] != row["a_strategy"] else "")
        run = runs.setdefault(name, {"points": [], "total": None, "error": None})
        if row["metric"] == "weighted_error":
            run["error"] = table.number(row, "error_pct", empty_ok=True)
            continue
        a = table.number(row, "a_us", empty_ok=True)
        b = table.number(row, "b_us", empty_ok=True)
        if a is None or b is None or a <= 0 or b <= 0:
            continue  # a phase only one side has, or an empty one: nothing to place on log axes
        if row["metric"] == "total_time":
            run["total"] = (a, b)
        elif row["metric"] == "busy_max":
            run["points"].append((style.kind_of_phase(row["phase"]), row["layer"], a, b))
    if not any(r["points"] or r["total"] for r in runs.values()):
        raise table.error(None, "no row with both a_us and b_us above zero: nothing to draw")
    return runs


def scatter(fig, tables, options):
    ax = fig.subplots()
    lo, hi = math.inf, 0.0
    for t, table in enumerate(tables):
        for name, run in runs_of(table).items():
            prefix = (f"{table.label}: " if len(tables) > 1 else "") + name
            kinds = list(dict.fromkeys(p[0] for p in run["points"]))
            for kind in [k for k in style.KINDS if k in kinds]:
                sel = [p for p in run["points"] if p[0] == kind]
                dots = ax.scatter([p[3] for p in sel], [p[2] for p in sel], s=18,
                                  color=style.KIND_COLOURS[kind], label=f"{prefix}: {kind}",
                                  marker="osD^"[t % 4], alpha=0.8, zorder=3)
                dots.set_gid(f"points:{prefix}:{kind}")
                lo, hi = min([lo] + [min(p[2], p[3]) for p in sel]), max([hi] + [max(p[2], p[3]) for p in sel])
            if run["total"]:
                a, b = run["total"]
                error = f", weighted error {run['error']:.1f}%" if run["error"] is not None else ""
                dot = ax.scatter([b], [a], s=80, marker="*", color="black", zorder=4,
                                 label=f"{prefix}: pass time{error}")
                dot.set_gid(f"total:{prefix}")
                lo, hi = min(lo, a, b), max(hi, a, b)
    style.agreement_axes(ax, lo, hi, "B, the second report (the measurement): time (us)",
                         "A, the first report: time (us)", "run: phase kind")
    pairs = [("", ", ".join(t.label for t in tables))]
    style.title(fig, "A against B (epsim diff): " + style.describe(pairs),
                "busiest rank per phase and layer (dots), pass time (star); on the diagonal "
                "A equals B; error = (A - B) / B", options.title)


FIGURES = {"scatter": scatter}
DEFAULT = "scatter"
SIZES = {"scatter": (10, 6)}
