"""Figures from `epsim sweep` tables (format: sweep_table.py).

  latency     grouped bars of the pass time, one bar per strategy (dispatch)
              and one group per combination of the other varying inputs,
              speedup over classical on each bar; one panel per model
  breakdown   per point, stacked time_us of each phase kind (adds up to the
              pass time, marked)
  vs          pass time against a numeric input (--x, default the varying
              one of tokens, ep, context, seed): prefill latency vs tokens,
              decode latency vs batch, training iteration time vs EP; one
              line per strategy and other varying inputs
  ct          pass time against C_T (devices_per_token), per strategy
  comm-share  share (%) of dispatch + combine in the pass, grouped as latency
"""

from . import style
from .sweep_table import NUMERIC_INPUTS, constant_pairs, describe_inputs, read_points, varying


def title(fig, points, what, options, subtitle=""):
    strategies = ", ".join(style.ordered(p.dispatch for p in points))
    pairs = constant_pairs(points) + [("", strategies), ("", "simulated")]
    style.title(fig, f"{what}: " + style.describe(pairs), subtitle, options.title)


def facets(fig, points):
    """[(axes, points)]: one panel per model when several, sharing the y axis."""
    models = list(dict.fromkeys(p.inputs["model"] for p in points))
    axes = fig.subplots(1, len(models), sharey=True, squeeze=False)[0]
    return [(ax, [p for p in points if p.inputs["model"] == m], m if len(models) > 1 else "")
            for ax, m in zip(axes, models)]


def grouped(ax, points, value, gid, strategy_style, annotate=None):
    """Bars of value(point) per strategy within groups of the other varying inputs."""
    columns = [c for c in varying(points) if c not in ("dispatch", "model")]
    groups = list(dict.fromkeys(describe_inputs(p, columns) for p in points))
    strategies = style.ordered(p.dispatch for p in points)
    width = 0.8 / len(strategies)
    # A bar's width in characters of the 7 pt labels: too narrow for "1.23x", upright.
    bar_chars = (ax.figure.get_figwidth() * ax.get_position().width * 72 / (7 * 0.6)
                 / max(1, len(groups)) * width)
    for j, strategy in enumerate(strategies):
        sel = [p for p in points if p.dispatch == strategy]
        xs = [groups.index(describe_inputs(p, columns)) - 0.4 + width * (j + 0.5) for p in sel]
        bars = ax.bar(xs, [value(p) for p in sel], width, color=strategy_style.colour(strategy),
                      hatch=strategy_style.hatch(strategy), edgecolor="white", linewidth=0.3,
                      label=strategy)
        style.bars_gid(bars, [f"{gid}:{p.pid()}" for p in sel])
        for x, p in zip(xs, sel):
            if annotate and annotate(p):
                text = ax.annotate(annotate(p), (x, value(p)), ha="center", va="bottom",
                                   fontsize=7, xytext=(0, 2), textcoords="offset points",
                                   rotation=90 if bar_chars < 7 else 0)
                text.set_gid(f"speedup:{p.pid()}")
    tick_labels(ax, [g.replace(", ", "\n") for g in groups])


def tick_labels(ax, labels, fontsize=8):
    """Group labels under the axis, slanted when side by side they would overlap
    (a character is at most 0.6 em wide; the axes' share of the figure's width)."""
    width_in = ax.figure.get_figwidth() * ax.get_position().width
    room = width_in * 72 / (fontsize * 0.6) / max(1, len(labels))
    longest = max(len(line) for label in labels for line in label.split("\n"))
    if longest > 0.9 * room:
        ax.set_xticks(range(len(labels)), labels, fontsize=fontsize, rotation=25, ha="right",
                      rotation_mode="anchor")
    else:
        ax.set_xticks(range(len(labels)), labels, fontsize=fontsize)


def speedup_text(point):
    return f"{point.speedup:.2f}x" if point.speedup is not None else ""


def latency(fig, tables, options):
    points = read_points(tables)
    strategy_style = style.StrategyStyle()
    scale = None
    for ax, sel, model in facets(fig, points):
        scale = scale or style.time_axis(ax, max(p.total for p in points), "pass time")
        grouped(ax, sel, lambda p: p.total / scale, "total", strategy_style, speedup_text)
        ax.set_title(model, fontsize=9)
        style.headroom(ax, 1.15)
    style.legend_outside(ax, title="dispatch")
    title(fig, points, "pass time", options, "label on each bar: speedup over classical")


def breakdown(fig, tables, options):
    points = read_points(tables)
    ax = fig.subplots()
    scale = style.time_axis(ax, max(p.total for p in points), "critical-path time")
    kinds = [k for k in style.KINDS if any(k in p.kinds for p in points)]
    bottom = [0.0] * len(points)
    for kind in kinds:
        heights = [p.kinds.get(kind, 0.0) / scale for p in points]
        bars = ax.bar(range(len(points)), heights, 0.7, bottom=bottom, label=kind,
                      color=style.KIND_COLOURS[kind], edgecolor="white", linewidth=0.3)
        style.bars_gid(bars, [f"bar:{kind}:{p.pid()}" for p in points])
        bottom = [b + h for b, h in zip(bottom, heights)]
    for i, p in enumerate(points):
        line, = ax.plot([i - 0.4, i + 0.4], [p.total / scale] * 2, color="black", lw=1.2)
        line.set_gid(f"total:{p.pid()}")
    columns = ["dispatch"] + [c for c in varying(points) if c != "dispatch"]
    labels = [describe_inputs(p, columns).replace(", ", "\n") for p in points]
    tick_labels(ax, labels, fontsize=7)
    style.legend_outside(ax, title="phase kind")
    title(fig, points, "pass time by phase kind", options,
          "stacked: critical-path time per kind (adds up to the pass); black line: pass time")


def x_column(points, options, path):
    if options.x:
        if options.x not in NUMERIC_INPUTS:
            from .tables import TableError
            raise TableError(path, "line 1", f"--x {options.x}: not a numeric input "
                             f"({', '.join(NUMERIC_INPUTS)})")
        return options.x
    vary = varying(points)
    return next((c for c in NUMERIC_INPUTS if c in vary), "tokens")


def x_label(column, points):
    passes = {p.inputs["pass"] for p in points}
    if column == "tokens" and passes == {"decode"}:
        return "batch (sequences per step)", "decode latency vs batch"
    if column == "ep":
        what = "training iteration time" if passes == {"train"} else "pass time"
        return "EP (ranks)", f"{what} vs EP"
    names = {"tokens": "tokens", "context": "context (KV-cache tokens per sequence)",
             "seed": "seed"}
    what = "prefill latency" if passes == {"prefill"} else "pass time"
    return names[column], f"{what} vs {column}"


def vs(fig, tables, options):
    points = read_points(tables)
    column = x_column(points, options, tables[0].path)
    points = [p for p in points if p.inputs[column] != ""]
    if not points:
        from .tables import TableError
        raise TableError(tables[0].path, "", f"no point has a value of {column}")
    ax = fig.subplots()
    strategy_style = style.StrategyStyle()
    scale = style.time_axis(ax, max(p.total for p in points), "pass time")
    others = [c for c in varying(points) if c not in (column, "dispatch")]
    series = list(dict.fromkeys((p.dispatch, describe_inputs(p, others)) for p in points))
    series.sort(key=lambda s: style.sort_key(s[0])[0])
    markers = "osD^vP*X"
    for i, (strategy, rest) in enumerate(series):
        sel = sorted((p for p in points if (p.dispatch, describe_inputs(p, others)) ==
                      (strategy, rest)), key=lambda p: float(p.inputs[column]))
        name = strategy + (f", {rest}" if others else "")
        line, = ax.plot([float(p.inputs[column]) for p in sel], [p.total / scale for p in sel],
                        marker=markers[i % len(markers)], color=strategy_style.colour(strategy),
                        label=name, linestyle=("-", "--", ":", "-.")[(i // 8) % 4])
        line.set_gid(f"line:{name}")
    xs = sorted({float(p.inputs[column]) for p in points})
    if xs[0] > 0 and xs[-1] / xs[0] >= 8:
        ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [f"{x:g}" for x in xs], fontsize=8)
    ax.minorticks_off()
    label, what = x_label(column, points)
    ax.set_xlabel(label)
    ax.grid(True, alpha=0.3)
    style.legend_outside(ax, title="dispatch")
    title(fig, points, what, options)


def ct(fig, tables, options):
    points = read_points(tables)
    ax = fig.subplots()
    strategy_style = style.StrategyStyle()
    style.ct_scatter(ax, points, strategy_style, 36)
    style.legend_outside(ax, title="dispatch")
    title(fig, points, "pass time vs C_T", options)


def comm_share(point):
    comm = point.kinds.get("dispatch", 0.0) + point.kinds.get("combine", 0.0)
    return 100.0 * comm / point.total if point.total > 0 else 0.0


def comm_share_figure(fig, tables, options):
    points = read_points(tables)
    strategy_style = style.StrategyStyle()
    for ax, sel, model in facets(fig, points):
        grouped(ax, sel, comm_share, "share", strategy_style)
        ax.set_ylabel("dispatch + combine share of the pass (%)")
        ax.set_ylim(0, 100)
        ax.set_title(model, fontsize=9)
    style.legend_outside(ax, title="dispatch")
    title(fig, points, "communication share of the pass", options,
          "critical-path time of dispatch + combine / pass time")


FIGURES = {"latency": latency, "breakdown": breakdown, "vs": vs, "ct": ct,
           "comm-share": comm_share_figure}
DEFAULT = "latency"
SIZES = {"latency": (11, 5.5), "breakdown": (11, 5.5), "vs": (9, 5.5), "ct": (8, 5),
         "comm-share": (11, 5.5)}
