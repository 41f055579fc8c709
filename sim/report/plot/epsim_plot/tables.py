"""Reads the tables epsim writes and tells their kind from the header.

Every table is CSV with one header row (lines starting with '#' before it
are comments and skipped), or the JSON the same command writes with
--format json. The kind is the header's, never the file name's:

  simulate   strategy,placement,layer,phase,bytes,rows,time_us,start_us,
             end_us,max_rank[,busy_max_us,busy_mean_us[,critical_us,
             wait_max_us,wait_mean_us]]; json {"context", "records", "totals"}
  compare    placement,dispatch,devices_per_token,...,dispatch_us,expert_us,
             combine_us,layer_us,total_us,speedup; json {"context", "rows"}
  sweep      model,trace,tokens,seed,topology,calibrated,ep,placement,
             dispatch,pass,overlap,context,p2p,phase,time_us,span_us,bytes,
             devices_per_token,speedup; json {"context", "rows"}
  bench      size_bytes,count,type,redop,root,time_us,algbw_gbps,busbw_gbps,
             max_rank_bytes; json {"context", "results"}
  diff       a_strategy,a_placement,b_strategy,b_placement,layer,phase,
             metric,a_us,b_us,error_pct
  calibrate  file,where,kind,split,measured_us,before_us,after_us,
             before_error,after_error

A Table keeps its rows as dicts of strings (json numbers become strings the
way the csv writes them, null an empty cell), each row knowing where it came
from ("line 7", "records[3]") so that every error names the file and line.
"""

import csv
import json
import math
import os

SIMULATE = ["strategy", "placement", "layer", "phase", "bytes", "rows", "time_us",
            "start_us", "end_us", "max_rank"]
SIMULATE_BUSY = SIMULATE + ["busy_max_us", "busy_mean_us"]
SIMULATE_CRITICAL = SIMULATE_BUSY + ["critical_us", "wait_max_us", "wait_mean_us"]
COMPARE_FIRST = ["placement", "dispatch", "devices_per_token"]
COMPARE_NEEDS = ["dispatch_us", "expert_us", "combine_us", "layer_us", "total_us", "speedup"]
SWEEP_INPUTS = ["model", "trace", "tokens", "seed", "topology", "calibrated", "ep",
                "placement", "dispatch", "pass", "overlap", "context", "p2p"]
SWEEP = SWEEP_INPUTS + ["phase", "time_us", "span_us", "bytes", "devices_per_token", "speedup"]
BENCH = ["size_bytes", "count", "type", "redop", "root", "time_us", "algbw_gbps",
         "busbw_gbps", "max_rank_bytes"]
DIFF = ["a_strategy", "a_placement", "b_strategy", "b_placement", "layer", "phase",
        "metric", "a_us", "b_us", "error_pct"]
CALIBRATE = ["file", "where", "kind", "split", "measured_us", "before_us", "after_us",
             "before_error", "after_error"]
EXACT = [("simulate", SIMULATE_CRITICAL), ("simulate", SIMULATE_BUSY), ("simulate", SIMULATE),
         ("sweep", SWEEP), ("bench", BENCH), ("diff", DIFF), ("calibrate", CALIBRATE)]
KINDS = ["simulate", "compare", "sweep", "bench", "diff", "calibrate"]


class TableError(Exception):
    """Bad input: the file, where in it (a line, a json row; may be empty), what."""

    def __init__(self, path, where, what):
        super().__init__(f"{path}: {where}: {what}" if where else f"{path}: {what}")


class Row(dict):
    """One record, column -> text; `where` names its place in the file."""
    where = ""


class Table:
    """A table read from `path`: its kind, columns, rows and json context."""

    def __init__(self, path, kind, columns, rows, context=None, extra=None):
        self.path, self.kind, self.columns, self.rows = path, kind, columns, rows
        self.context = context or {}
        self.extra = extra or {}   # simulate json: "totals" rows
        self.label = ""            # legend name, set by the caller

    def error(self, row, what):
        return TableError(self.path, row.where if row is not None else "", what)

    def number(self, row, column, empty_ok=False):
        """The cell as a finite float (None for an empty cell when empty_ok)."""
        text = row.get(column)
        if text is None:
            raise self.error(row, f"{column}: missing")
        if text == "" and empty_ok:
            return None
        try:
            value = float(text)
        except ValueError:
            raise self.error(row, f"{column} '{text}' is not a number") from None
        if not math.isfinite(value):
            raise self.error(row, f"{column} '{text}' is not a finite number")
        return value


def kind_of(header):
    """The table kind whose header this is, or None."""
    for kind, columns in EXACT:
        if header == columns:
            return kind
    if header[:3] == COMPARE_FIRST and all(c in header for c in COMPARE_NEEDS):
        return "compare"
    return None


def cell(value):
    """A json value as the csv writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value)


def json_rows(path, items, name, columns=None):
    """Rows from a json array of objects; every object must have `columns`."""
    if not isinstance(items, list):
        raise TableError(path, "", f'"{name}" is not an array')
    rows = []
    for i, item in enumerate(items):
        where = f"{name}[{i}]"
        if not isinstance(item, dict):
            raise TableError(path, where, "not an object")
        missing = [c for c in (columns or []) if c not in item]
        if missing:
            raise TableError(path, where, f"missing {', '.join(missing)}")
        row = Row((k, cell(v)) for k, v in item.items())
        row.where = where
        rows.append(row)
    return rows


def read_json(path, text):
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise TableError(path, f"line {getattr(e, 'lineno', 1)}", f"not json: {e}") from None
    if not isinstance(doc, dict):
        raise TableError(path, "line 1", "json is not an object")
    context = doc.get("context") if isinstance(doc.get("context"), dict) else {}
    if "records" in doc and "totals" in doc:
        records = json_rows(path, doc["records"], "records", ["strategy", "placement", "layer",
                                                              "phase", "time_us"])
        totals = json_rows(path, doc["totals"], "totals", ["strategy", "placement", "phase",
                                                           "time_us"])
        return Table(path, "simulate", SIMULATE_CRITICAL, records, context, {"totals": totals})
    if "results" in doc:
        return Table(path, "bench", BENCH, json_rows(path, doc["results"], "results", BENCH),
                     context)
    if "rows" in doc:
        command = str(context.get("command", ""))
        kind, columns = ("sweep", SWEEP) if command == "sweep" else ("compare", None)
        if command not in ("sweep", "compare"):
            first = doc["rows"][0] if doc["rows"] and isinstance(doc["rows"], list) else {}
            kind = kind_of(list(first)) if isinstance(first, dict) else None
            if kind not in ("sweep", "compare"):
                raise TableError(path, "line 1", "json rows are not a sweep or compare table")
            columns = SWEEP if kind == "sweep" else None
        rows = json_rows(path, doc["rows"], "rows", columns or COMPARE_FIRST + COMPARE_NEEDS)
        return Table(path, kind, columns or list(rows[0]) if rows else [], rows, context)
    raise TableError(path, "line 1", 'json has none of "records", "results", "rows"')


def read_csv(path, text):
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and (lines[skipped].startswith("#") or not lines[skipped].strip()):
        skipped += 1
    reader = csv.reader(lines[skipped:])
    header = next(reader, None)
    if header is None:
        raise TableError(path, f"line {skipped + 1}", "no header row (empty table)")
    kind = kind_of(header)
    if kind is None:
        raise TableError(path, f"line {skipped + 1}",
                         f"unknown header '{','.join(header)[:80]}': not a table epsim writes "
                         f"({', '.join(KINDS)})")
    rows = []
    for fields in reader:
        lineno = skipped + reader.line_num
        if not fields:
            continue
        if len(fields) != len(header):
            raise TableError(path, f"line {lineno}",
                             f"{len(fields)} fields, expected {len(header)} (truncated row?)")
        row = Row(zip(header, fields))
        row.where = f"line {lineno}"
        rows.append(row)
    return Table(path, kind, header, rows)


def read(path):
    """The table in `path`; raises TableError naming the file and line."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except OSError as e:
        raise TableError(path, "", e.strerror or str(e)) from None
    except UnicodeDecodeError:
        raise TableError(path, "", "not a text file (not UTF-8)") from None
    table = read_json(path, text) if text.lstrip().startswith("{") else read_csv(path, text)
    if not table.rows:
        raise TableError(path, "", f"{table.kind} table without rows")
    return table


def default_label(table):
    """A legend name: the json's source and topology, else the file name."""
    run = (table.context.get("runs") or [{}])[0] if isinstance(table.context.get("runs"), list) else {}
    source = table.context.get("source") or run.get("source")
    if source:
        topology = (table.context.get("inputs") or {}).get("topology") or run.get("topology")
        return f"{source}, {topology}" if topology else str(source)
    return os.path.splitext(os.path.basename(table.path))[0]
