"""Figures from `epsim compare` tables.

Reads the csv of `epsim compare --format csv`: one row per placement x
dispatch, columns placement, dispatch, devices_per_token (C_T, mean GPUs a
token is sent to), ... then dispatch_us, expert_us, combine_us (critical
path times summed over layers), layer_us, total_us (the pass time) and
speedup (classical dispatch on contiguous placement / this row's pass time).
The json of --format json is {"context": {...}, "rows": [{column: value}]}.

Figures: latency (stacked dispatch, expert, combine and the rest of the
pass, total_us marked and speedup annotated), ct (total_us against C_T).
"""

from . import style

PARTS = ["dispatch", "expert", "combine", "rest"]
PART_COLOURS = {"dispatch": style.KIND_COLOURS["dispatch"], "expert": style.KIND_COLOURS["expert"],
                "combine": style.KIND_COLOURS["combine"], "rest": style.KIND_COLOURS["other"]}


class Point:
    """One row: placement, dispatch, its parts, total and speedup (times in us)."""

    def __init__(self, table, row):
        self.placement, self.dispatch = row["placement"], row["dispatch"]
        self.parts = {p: table.number(row, p + "_us") for p in PARTS[:3]}
        self.total = table.number(row, "total_us")
        self.parts["rest"] = max(self.total - sum(self.parts.values()), 0.0)
        self.speedup = table.number(row, "speedup", empty_ok=True)
        self.ct = table.number(row, "devices_per_token")
        self.name = f"{self.placement}/{self.dispatch}"


def collect(tables):
    points = []
    for table in tables:
        for row in table.rows:
            point = Point(table, row)
            if len(tables) > 1:
                point.name = f"{table.label}: {point.name}"
            points.append(point)
    return points


def context_pairs(tables, points):
    inputs = [t.context.get("inputs") or {} for t in tables]

    def joined(key):
        return ", ".join(dict.fromkeys(str(i[key]) for i in inputs if i.get(key)))
    tokens = ", ".join(t for t in dict.fromkeys(style.tokens_of(i.get("trace")) for i in inputs) if t)
    return [("model", joined("model")), ("topology", joined("topology")), ("EP", joined("ep")),
            ("", f"{tokens} tokens" if tokens else ""),
            ("", ", ".join(style.ordered(p.dispatch for p in points))), ("", "simulated")]


def latency(fig, tables, options):
    points = collect(tables)
    ax = fig.subplots()
    strategy_style = style.StrategyStyle()
    scale = style.time_axis(ax, max(p.total for p in points), "pass time")
    style.stacked_bars(ax, points, PARTS, lambda p, part: p.parts[part] / scale, PART_COLOURS,
                       lambda p: strategy_style.hatch(p.dispatch),
                       lambda p, part: f"bar:{part}:{p.name}")
    for i, point in enumerate(points):
        line, = ax.plot([i - 0.35, i + 0.35], [point.total / scale] * 2, color="black", lw=1.5)
        line.set_gid(f"total:{point.name}")
        if point.speedup is not None:
            text = ax.annotate(f"{point.speedup:.2f}x", (i, point.total / scale), ha="center",
                               va="bottom", fontsize=8, xytext=(0, 3), textcoords="offset points")
            text.set_gid(f"speedup:{point.name}")
    ax.set_xticks(range(len(points)), [p.name.replace("/", "\n") for p in points], fontsize=8)
    style.headroom(ax)
    style.legend_outside(ax, title="part of the pass")
    automatic = "placement x dispatch: " + style.describe(context_pairs(tables, points))
    style.title(fig, automatic, "bars: critical-path time per part; black line: pass time; "
                "label: speedup over classical / contiguous", options.title)


def ct(fig, tables, options):
    points = collect(tables)
    ax = fig.subplots()
    strategy_style = style.StrategyStyle()
    scale = style.ct_scatter(ax, points, strategy_style, 40)
    for p in points:
        ax.annotate(p.placement, (p.ct, p.total / scale), fontsize=7, xytext=(4, 3),
                    textcoords="offset points")
    style.legend_outside(ax, title="dispatch")
    automatic = "pass time vs C_T: " + style.describe(context_pairs(tables, points))
    style.title(fig, automatic, "", options.title)


FIGURES = {"latency": latency, "ct": ct}
DEFAULT = "latency"
SIZES = {"latency": (9, 5.5), "ct": (8, 5)}
