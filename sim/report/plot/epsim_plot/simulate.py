"""Figures from `epsim simulate` tables (and `epsim-hw run` reports).

Reads the csv of `epsim simulate --format csv` (or --csv FILE): columns
strategy, placement, layer, phase, bytes, rows, time_us, start_us, end_us,
max_rank, then busy_max_us, busy_mean_us, then critical_us, wait_max_us,
wait_mean_us (older files stop after max_rank or busy_mean_us). Rows with a
numeric layer are one phase of one layer; rows with layer `all` are per
kind totals over layers, and phase `total` holds the pass time. Each bar
stacks critical_us, what a phase adds to the pass, so a run's parts add up
to its pass time; without that column (old files, measured reports) it
stacks time_us, the phase span, which counts rank skew and overlap twice.
The json of --format json has the same columns as keys of "records" and
"totals" (totals without layer), and context.runs[] naming each run's model,
topology, num_ranks and source (simulated or measured) for the title.

Figures: latency (per layer stacked bars and per-run totals with the
speedup over classical), breakdown (the per-run totals only).
"""

from . import style

PARTS = ["dispatch", "expert", "combine", "other"]
PART_COLOURS = {p: style.KIND_COLOURS[p] for p in PARTS}


def part_of(phase):
    return phase if phase in ("dispatch", "expert", "combine") else "other"


class Run:
    """One strategy x placement of one table: per-layer parts, total parts, pass time (us)."""

    def __init__(self, table, strategy, placement):
        self.table, self.strategy, self.placement = table, strategy, placement
        self.layers = {}   # layer -> {part: us}
        self.parts = {}    # part -> us summed over layers (from the `all` rows)
        self.pass_us = None
        self.name = strategy

    def key(self):
        return (self.strategy, self.placement)


def stacked_time(table, row):
    """critical_us where the row has it, else the span time_us."""
    if row.get("critical_us", "") != "":
        return table.number(row, "critical_us"), True
    return table.number(row, "time_us"), False


def add_row(table, runs, row, critical):
    key = (row["strategy"], row["placement"])
    run = runs.setdefault(key, Run(table, *key))
    value, is_critical = stacked_time(table, row)
    layer = row.get("layer", "all")
    if layer == "all":
        if row["phase"] == "total":
            run.pass_us = value
        else:
            part = part_of(row["phase"])
            run.parts[part] = run.parts.get(part, 0.0) + value
            critical.append(is_critical)
        return
    try:
        index = int(float(layer))
    except ValueError:
        raise table.error(row, f"layer '{layer}' is neither a number nor 'all'") from None
    parts = run.layers.setdefault(index, dict.fromkeys(PARTS, 0.0))
    parts[part_of(row["phase"])] += value
    critical.append(is_critical)


def read_runs(table):
    """{(strategy, placement): Run} in table order, and whether parts are critical-path times."""
    runs, critical = {}, []
    for row in table.rows + table.extra.get("totals", []):
        if "layer" not in row:
            where, row = row.where, type(row)(row, layer="all")
            row.where = where
        add_row(table, runs, row, critical)
    for run in runs.values():
        if not run.parts and run.layers:
            run.parts = {p: sum(l[p] for l in run.layers.values()) for p in PARTS}
        if run.pass_us is None:
            raise table.error(None, f"run {run.strategy} / {run.placement}: no 'all,total' row "
                                    "(the pass time)")
    return runs, bool(critical) and all(critical)


def speedups(runs):
    """{key: classical pass time of the same placement / this one's}, where there is a classical."""
    base = {r.placement: r.pass_us for r in runs if r.strategy == "classical"}
    return {r.key(): base[r.placement] / r.pass_us for r in runs
            if r.placement in base and r.pass_us > 0}


def collect(tables):
    """Every table's runs, named uniquely for the legend; and whether all stack critical paths."""
    all_runs, critical = [], True
    for table in tables:
        runs, is_critical = read_runs(table)
        critical &= is_critical
        placements = {r.placement for r in runs.values()}
        for run in runs.values():
            run.speedup = speedups(runs.values()).get(run.key())
            run.name = run.strategy + (f" / {run.placement}" if len(placements) > 1 else "")
            if len(tables) > 1:
                run.name = f"{table.label}: {run.name}"
            all_runs.append(run)
    return all_runs, critical


def context_pairs(tables, runs):
    """What the figure shows, from the json contexts where there are any."""
    found = {"model": [], "topology": [], "EP": [], "tokens": [], "source": []}
    for table in tables:
        inputs = table.context.get("inputs") or {}
        found["tokens"].append(style.tokens_of(inputs.get("trace")))
        for run in table.context.get("runs") or []:
            found["model"].append(run.get("model") or inputs.get("model"))
            found["topology"].append(run.get("topology") or inputs.get("topology"))
            found["EP"].append(run.get("num_ranks") or inputs.get("ep"))
            found["source"].append(run.get("source"))

    def joined(key):
        return ", ".join(dict.fromkeys(str(v) for v in found[key] if v))
    tokens = joined("tokens")
    return [("model", joined("model")), ("topology", joined("topology")), ("EP", joined("EP")),
            ("", f"{tokens} tokens" if tokens else ""),
            ("", ", ".join(style.ordered(r.strategy for r in runs))), ("", joined("source"))]


def draw_layers(ax, runs, strategy_style, critical):
    layers = sorted({layer for run in runs for layer in run.layers})
    width = 0.8 / len(runs)
    top = max(sum(p.values()) for run in runs for p in run.layers.values())
    scale = style.time_axis(ax, top, "critical-path time" if critical else "phase span")
    for i, run in enumerate(runs):
        xs = [layer - 0.4 + width * (i + 0.5) for layer in layers]
        bottom = [0.0] * len(layers)
        for part in PARTS:
            heights = [run.layers.get(l, {}).get(part, 0.0) / scale for l in layers]
            bars = ax.bar(xs, heights, width, bottom=bottom, color=PART_COLOURS[part],
                          hatch=strategy_style.hatch(run.strategy), edgecolor="white",
                          linewidth=0.3, label=part if i == 0 else None)
            style.bars_gid(bars, [f"bar:{part}:{run.name}:layer{l}" for l in layers])
            bottom = [b + h for b, h in zip(bottom, heights)]
    ax.set_xticks(layers)
    ax.set_xlabel("MoE layer (transformer block)")
    ax.set_title("per layer, one bar per run (hatch: run)", fontsize=8)
    style.headroom(ax, 1.05)
    legend_with_hatches(ax, runs, strategy_style)


def legend_with_hatches(ax, runs, strategy_style):
    """Phase colours, then one hatched swatch per run, right of the axes."""
    from matplotlib.patches import Patch
    handles, labels = ax.get_legend_handles_labels()
    for run in runs:
        handles.append(Patch(facecolor="#d9d9d9", edgecolor="black",
                             hatch=strategy_style.hatch(run.strategy)))
        labels.append(run.name)
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              borderaxespad=0.0, title="phase / run")


def draw_totals(ax, runs, strategy_style):
    scale = style.time_axis(ax, max(r.pass_us for r in runs), "pass time")
    style.stacked_bars(ax, runs, PARTS, lambda r, part: r.parts.get(part, 0.0) / scale,
                       PART_COLOURS, lambda r: strategy_style.hatch(r.strategy),
                       lambda r, part: f"total-part:{part}:{r.name}")
    for i, run in enumerate(runs):
        mark(ax, i, run.pass_us / scale, run.name, run.speedup)
    ax.set_xticks(range(len(runs)), [r.name for r in runs], rotation=20, ha="right", fontsize=8)
    ax.set_title("pass time per run (black line)\nlabel: speedup over classical", fontsize=8)
    style.headroom(ax, 1.15)


def mark(ax, x, total, name, speedup):
    """The pass-time line over a bar, and its speedup annotation."""
    line, = ax.plot([x - 0.35, x + 0.35], [total, total], color="black", linewidth=1.5)
    line.set_gid(f"total:{name}")
    if speedup is not None:
        text = ax.annotate(f"{speedup:.2f}x", (x, total), ha="center", va="bottom", fontsize=8,
                           xytext=(0, 3), textcoords="offset points")
        text.set_gid(f"speedup:{name}")


def subtitle(critical):
    return ("bars: critical-path time per phase kind (adds up to the pass time)" if critical
            else "bars: phase spans (rank skew and overlap counted; may exceed the pass time)")


def latency(fig, tables, options):
    runs, critical = collect(tables)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    strategy_style = style.StrategyStyle()
    draw_layers(left, runs, strategy_style, critical)
    draw_totals(right, runs, strategy_style)
    automatic = "MoE pass latency: " + style.describe(context_pairs(tables, runs))
    style.title(fig, automatic, subtitle(critical), options.title)


def breakdown(fig, tables, options):
    runs, critical = collect(tables)
    ax = fig.subplots()
    strategy_style = style.StrategyStyle()
    draw_totals(ax, runs, strategy_style)
    legend_with_hatches(ax, runs, strategy_style)
    automatic = "pass time by phase kind: " + style.describe(context_pairs(tables, runs))
    style.title(fig, automatic, subtitle(critical), options.title)


FIGURES = {"latency": latency, "breakdown": breakdown}
DEFAULT = "latency"
SIZES = {"latency": (13, 5), "breakdown": (7, 5)}
