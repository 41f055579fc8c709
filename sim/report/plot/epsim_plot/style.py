"""Looks shared by every figure: strategy colours and hatches, phase-kind
colours, time units, human byte sizes, titles and legends.

A strategy keeps its colour and hatch in every figure: the families
classical, dedup, pruned:*, c2r:*, node-limited*, hierarchical*, luffy* have
fixed ones; variants inside a family (pruned:2:score, pruned:4:score) share
the colour and get a denser hatch each; any other strategy takes the next
unused colour in order of first appearance.
"""

import re

FAMILIES = [  # (prefix, colour, hatch)
    ("classical", "#4c72b0", ""),
    ("dedup", "#dd8452", "//"),
    ("pruned", "#55a868", "\\\\"),
    ("c2r", "#c44e52", "xx"),
    ("node-limited", "#8172b3", ".."),
    ("hierarchical", "#937860", "oo"),
    ("luffy", "#da8bc3", "++"),
]
OTHER_COLOURS = ["#8c8c8c", "#ccb974", "#64b5cd", "#2f4f4f", "#b8860b", "#6a5acd"]
OTHER_HATCHES = ["--", "||", "**", "OO", "-\\", "|/"]

# Phase kinds, in the order of a transformer block, with their colours.
KINDS = ["attention", "shared_expert", "dense_ffn", "gate_permute", "dispatch", "expert",
         "combine", "unpermute_reduce", "allreduce", "other"]
KIND_COLOURS = {"attention": "#a1c9f4", "shared_expert": "#8de5a1", "dense_ffn": "#d0bbff",
                "gate_permute": "#fffea3", "dispatch": "#4c72b0", "expert": "#55a868",
                "combine": "#dd8452", "unpermute_reduce": "#debb9b", "allreduce": "#c44e52",
                "other": "#8c8c8c"}


class StrategyStyle:
    """Colour and hatch per strategy name, stable within one figure and across figures."""

    def __init__(self):
        self._variants = {}  # family -> [names]
        self._others = []

    def family(self, name):
        for prefix, _, _ in FAMILIES:
            if name == prefix or name.startswith(prefix + ":") or (
                    prefix in ("node-limited", "hierarchical", "luffy") and name.startswith(prefix)):
                return prefix
        return None

    def colour(self, name):
        return self._style(name)[0]

    def hatch(self, name):
        return self._style(name)[1]

    def _style(self, name):
        family = self.family(name)
        if family is None:
            if name not in self._others:
                self._others.append(name)
            i = self._others.index(name)
            return OTHER_COLOURS[i % len(OTHER_COLOURS)], OTHER_HATCHES[i % len(OTHER_HATCHES)]
        variants = self._variants.setdefault(family, [])
        if name not in variants:
            variants.append(name)
        colour, hatch = next((c, h) for p, c, h in FAMILIES if p == family)
        i = variants.index(name)
        return colour, (hatch * (i + 1) if hatch else ("", "..", "**", "oo")[i % 4])


def sort_key(name):
    """Strategies in the house order: the families above, then the rest as found."""
    for i, (prefix, _, _) in enumerate(FAMILIES):
        if name == prefix or name.startswith(prefix):
            return (i, name)
    return (len(FAMILIES), "")


def ordered(names):
    """Unique names in the house order (stable for the rest)."""
    unique = list(dict.fromkeys(names))
    return sorted(unique, key=lambda n: (sort_key(n)[0], unique.index(n)))


def kind_of_phase(phase):
    return phase if phase in KINDS else "other"


def time_unit(max_us):
    """(unit, microseconds per unit) for an axis whose largest time is max_us."""
    if max_us > 10e6:
        return "s", 1e6
    if max_us >= 1e3:
        return "ms", 1e3
    return "us", 1.0


def format_time(us):
    unit, scale = time_unit(us)
    return f"{us / scale:.3g} {unit}"


def time_axis(ax, max_us, what, axis="y"):
    """Labels the axis '<what> (unit)'; returns the microseconds per unit to divide by."""
    unit, scale = time_unit(max_us)
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(f"{what} ({unit})")
    return scale


def human_bytes(n):
    """1024 -> 1K, 1048576 -> 1M, like nccl-tests' -b/-e sizes."""
    for suffix, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size}{suffix}"
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return f"{int(n)}"


def tokens_of(text):
    """'synthetic, ..., 2048 tokens, seed 1' -> '2048'."""
    match = re.search(r"(\d+) tokens", text or "")
    return match.group(1) if match else ""


def describe(pairs):
    """'model olmoe-1b-7b | topology x | EP 4 | ...' from (name, value) pairs with a value."""
    return " | ".join(f"{k} {v}".strip() for k, v in pairs if v not in (None, ""))


def wrap(text, fig, fontsize):
    """Lines of text no wider than the figure (a character is at most 0.6 em
    wide in the default font), broken after ' | ' or a space."""
    import textwrap
    width = max(20, int(fig.get_figwidth() * 72 / (fontsize * 0.6)))
    return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False) or [""]


def title(fig, automatic, subtitle, user):
    """The figure's title: the user's (if any) over the automatic one, then the
    subtitle; every line wrapped to the figure's width, so none is clipped."""
    lines = [user] if user else []
    lines += [automatic, subtitle] if subtitle else [automatic]
    wrapped = [part for line in lines if line for part in wrap(line, fig, 10)]
    fig.suptitle("\n".join(wrapped), fontsize=10)


def legend_outside(ax, **kwargs):
    """A legend right of the axes, where it cannot cover data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize=8, borderaxespad=0.0, **kwargs)


def headroom(ax, factor=1.15):
    """More room above the tallest bar for its annotation."""
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * factor)


def bars_gid(container, gids):
    """Gives each bar of a BarContainer its gid."""
    for patch, gid in zip(container.patches, gids):
        patch.set_gid(gid)


def stacked_bars(ax, items, parts, value, colours, hatch, gid, width=0.6):
    """One bar per item at x = 0, 1, ...: the parts stacked bottom-up, part p of
    item i value(i, p) high, coloured by part, hatched per item, each patch
    given gid(i, p)."""
    bottom = [0.0] * len(items)
    for part in parts:
        heights = [value(item, part) for item in items]
        bars = ax.bar(range(len(items)), heights, width, bottom=bottom, color=colours[part],
                      edgecolor="white", linewidth=0.3, label=part)
        for patch, item in zip(bars.patches, items):
            patch.set_hatch(hatch(item))
            patch.set_gid(gid(item, part))
        bottom = [b + h for b, h in zip(bottom, heights)]


def ct_scatter(ax, points, strategy_style, size):
    """Pass time (points' .total, us) against C_T (.ct), one colour per
    strategy (.dispatch); returns the microseconds per unit of the y axis."""
    scale = time_axis(ax, max(p.total for p in points), "pass time")
    for strategy in ordered(p.dispatch for p in points):
        sel = [p for p in points if p.dispatch == strategy]
        dots = ax.scatter([p.ct for p in sel], [p.total / scale for p in sel], s=size, zorder=3,
                          color=strategy_style.colour(strategy), label=strategy)
        dots.set_gid(f"ct:{strategy}")
    ax.set_xlabel("C_T: mean GPUs a token is sent to (devices_per_token)")
    ax.grid(True, alpha=0.3)
    return scale


def agreement_axes(ax, lo, hi, xlabel, ylabel, legend_title):
    """Log-log axes of one time against another, with the diagonal where they
    agree (gid "diagonal") over [lo, hi] and a little beyond."""
    line, = ax.plot([lo / 1.5, hi * 1.5], [lo / 1.5, hi * 1.5], color="0.6", lw=1, zorder=1)
    line.set_gid("diagonal")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3, which="both")
    legend_outside(ax, title=legend_title)
