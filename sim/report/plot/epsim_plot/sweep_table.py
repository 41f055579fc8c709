"""Reads `epsim sweep` tables into points.

The csv header is exactly model,trace,tokens,seed,topology,calibrated,ep,
placement,dispatch,pass,overlap,context,p2p (the point's inputs: trace empty
for synthetic routing, tokens the synthetic token count, the batch in a
decode pass, empty with a trace; calibrated yes/no; ep the number of ranks;
p2p empty for the topology's default), then phase,time_us,span_us,bytes,
devices_per_token,speedup. A point has one row per phase kind present
(attention, shared_expert, dense_ffn, gate_permute, dispatch, expert,
combine, unpermute_reduce, allreduce; any other kind is drawn as "other"):
time_us is the kind's critical-path time summed over layers, what it adds
to the pass, so a point's kinds add up to its pass time; span_us the kind's
phase spans summed; bytes the bytes it moved. Then one row with phase
`total`: time_us the pass time, span_us and bytes empty, speedup the
classical twin's pass time / this one (empty without a twin).
devices_per_token (C_T) is the point's on each of its rows. The json is
{"context": {...}, "rows": [{column: value}]}, numbers as numbers, empty
cells as null.
"""

from . import style
from .tables import SWEEP_INPUTS

NUMERIC_INPUTS = ["tokens", "ep", "context", "seed"]


class Point:
    """One combination of inputs: kinds {kind: us}, pass time, C_T, speedup."""

    def __init__(self, inputs, where):
        self.inputs, self.where = inputs, where
        self.kinds = {}
        self.total = None
        self.speedup = None
        self.ct = None
        self.label = ""

    @property
    def dispatch(self):
        return self.inputs["dispatch"]

    def pid(self):
        """The point's name in gids: its non-empty inputs, column=value joined by ';'."""
        named = ";".join(f"{k}={v}" for k, v in self.inputs.items() if v != "" and k != "label")
        return (f"label={self.inputs['label']};" if self.inputs.get("label") else "") + named


def canonical(table, row, column):
    """A numeric input as the csv writes it: json 2048.0 and csv 2048 are one point."""
    text = row[column]
    if column in NUMERIC_INPUTS and text != "":
        value = table.number(row, column)
        return str(int(value)) if value == int(value) else text
    return text


def add_row(table, points, row, label):
    inputs = {c: canonical(table, row, c) for c in SWEEP_INPUTS}
    if label:
        inputs["label"] = label
    key = tuple(inputs.values())
    point = points.setdefault(key, Point(inputs, row.where))
    if point.total is not None:
        raise table.error(row, f"row after the point's total row (point first at {point.where})")
    time_us = table.number(row, "time_us")
    point.ct = table.number(row, "devices_per_token")
    table.number(row, "span_us", empty_ok=True)
    table.number(row, "bytes", empty_ok=True)
    if row["phase"] == "total":
        point.total = time_us
        point.speedup = table.number(row, "speedup", empty_ok=True)
    else:
        kind = style.kind_of_phase(row["phase"])
        point.kinds[kind] = point.kinds.get(kind, 0.0) + time_us


def read_points(tables):
    """Every table's points in order; tables other than the first are told apart by label."""
    points = {}
    for table in tables:
        label = table.label if len(tables) > 1 else ""
        for row in table.rows:
            add_row(table, points, row, label)
        for point in points.values():
            if point.total is None:
                raise table.error(None, f"{point.where}: the point has no total row")
    return list(points.values())


def varying(points):
    """Input columns (with label) whose value differs between points, in column order."""
    columns = SWEEP_INPUTS + (["label"] if "label" in points[0].inputs else [])
    return [c for c in columns if len({p.inputs[c] for p in points}) > 1]


def constant_pairs(points):
    """(name, value) of the title's inputs that every point shares."""
    first, vary = points[0].inputs, set(varying(points))
    names = [("model", "model"), ("trace", "trace"), ("topology", "topology"), ("ep", "EP"),
             ("tokens", "tokens"), ("pass", "pass"), ("placement", "placement"),
             ("context", "context"), ("overlap", "overlap"), ("p2p", "p2p"),
             ("calibrated", "calibrated")]
    pairs = [(title, first[c]) for c, title in names
             if c not in vary and first[c] != "" and not (c == "context" and first[c] == "0")]
    if "dispatch" not in vary:
        pairs.append(("", first["dispatch"]))
    return pairs


def describe_inputs(point, columns):
    """'olmoe-1b-7b, EP 8, a6000-x8' from the point's values of the given columns."""
    prefix = {"ep": "EP ", "tokens": "tokens ", "seed": "seed ", "context": "context ",
              "calibrated": "calibrated ", "p2p": "p2p ", "overlap": "overlap "}
    return ", ".join(prefix.get(c, "") + point.inputs[c] for c in columns
                     if point.inputs[c] != "") or "all"
