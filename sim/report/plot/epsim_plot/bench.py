"""Figures from `epsim bench` tables (simulated), and the same columns of a
measured run (`epsim bench` on an nccl-tests log, `epsim-hw bench`).

Reads the csv of `epsim bench --format csv` (or --csv FILE): one row per
message size, columns size_bytes (bytes per rank, as nccl-tests' "size"),
count, type, redop, root, time_us (the collective's time), algbw_gbps
(size / time), busbw_gbps (nccl-tests' bus bandwidth), max_rank_bytes; the
json of --format json is {"context": {"source", "inputs", ...}, "results":
[...]}, whose context names the source (simulated or measured) and inputs.

Figures: busbw (bus bandwidth against size, log2 sizes, one line per table:
simulated and measured on one axis, as the nccl-tests plots people post),
time (time against size, log-log). Give each table's name with --label.
"""

from . import style

MARKERS = "osD^vP*X"


def series(table):
    """[(size_bytes, time_us, busbw_gbps)] sorted by size."""
    out = []
    for row in table.rows:
        size = table.number(row, "size_bytes")
        if size <= 0:
            raise table.error(row, f"size_bytes {row['size_bytes']} is not a positive size")
        out.append((size, table.number(row, "time_us"), table.number(row, "busbw_gbps")))
    return sorted(out)


def context_pairs(tables):
    found = {}
    for table in tables:
        inputs = table.context.get("inputs") or {}
        for key, name in (("collective", "collective"), ("op", "collective"),
                          ("topology", "topology"), ("ranks", "ranks"), ("ep", "ranks"),
                          ("nccl-tests log", "log")):
            if inputs.get(key):
                found.setdefault(name, []).append(str(inputs[key]))
    types = {row["type"] for t in tables for row in t.rows}
    pairs = [(k, ", ".join(dict.fromkeys(v))) for k, v in found.items()]
    pairs.append(("type", ", ".join(sorted(types))))
    sources = [str(t.context.get("source")) for t in tables if t.context.get("source")]
    pairs.append(("", ", ".join(dict.fromkeys(sources))))
    return pairs


def size_axis(ax, sizes):
    ax.set_xscale("log", base=2)
    ticks = sorted(set(sizes))
    step = max(1, len(ticks) // 12)
    shown = ticks[::step]
    ax.set_xticks(shown, [style.human_bytes(int(s)) for s in shown], fontsize=8)
    ax.minorticks_off()
    ax.set_xlabel("size per rank (bytes; K = 2^10)")


def draw(fig, tables, options, column, ylabel, what, logy):
    ax = fig.subplots()
    sizes = []
    for i, table in enumerate(tables):
        data = series(table)
        sizes += [d[0] for d in data]
        ys = [d[column] for d in data]
        line, = ax.plot([d[0] for d in data], ys, marker=MARKERS[i % len(MARKERS)], markersize=4,
                        label=table.label, linestyle=("-", "--", ":", "-.")[i % 4])
        line.set_gid(f"line:{table.label}")
    size_axis(ax, sizes)
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3, which="both")
    style.legend_outside(ax, title="table")
    style.title(fig, f"{what}: " + style.describe(context_pairs(tables)), "", options.title)


def busbw(fig, tables, options):
    draw(fig, tables, options, 2, "bus bandwidth (GB/s, 1 GB = 1e9 B)", "busbw vs size", False)


def time(fig, tables, options):
    draw(fig, tables, options, 1, "time (us)", "collective time vs size", True)


FIGURES = {"busbw": busbw, "time": time}
DEFAULT = "busbw"
SIZES = {"busbw": (9, 5), "time": (9, 5)}
