#!/usr/bin/env python3
"""Turns SGLang expert-distribution dumps into the load file of `epsim synth --load`.

  sglang_counts.py expert_distribution_recorder_1750000000.1.pt -o load.json
  sglang_counts.py expert_distribution_rank*_timestamp*.csv --num-experts 64 -o load.json
  epsim synth --model olmoe-1b-7b --load load.json -o fitted.trace

Reads, summed per (layer, expert) over all the files given:
- SGLang's per-rank CSV dumps (v0.4.x, `layer_id,expert_id,count`; epsim
  synth --load also reads these directly);
- the torch `.pt` dumps of the newer recorder (sglang/srt/eplb/
  expert_distribution.py): "stat" mode's `logical_count`, [passes, layers,
  logical experts] (or [layers, experts]), summed over passes; "per_pass" and
  "per_token" mode's `records`, each with a `global_physical_count` [layers,
  physical experts], mapped to logical experts by the dump's
  `last_physical_to_logical_map`.
The file kind is told by content (a .pt is a zip archive or a pickle), not
by the name. Writes {"layers": [ids], "load": [[count per expert]]}, plus
"num_experts" and "source", for the layers with a nonzero count (SGLang
counts every layer of the model; dense layers stay 0). Formats:
sim/synth/FORMATS.md. Needs only the standard library for CSV files and
PyTorch (python3-torch) for .pt files. Progress goes to stderr. Exit codes:
0 ok, 1 usage, 2 bad input or a missing package.
"""

import argparse
import json
import os
import sys

EXIT_USAGE = 1
EXIT_BAD_INPUT = 2
CSV_HEADER = "layer_id,expert_id,count"
TORCH_HINT = "needs torch to read .pt dumps: apt install python3-torch (or pip install torch)"


class InputError(Exception):
    """Bad input: reported on stderr with exit code 2."""


class UsageError(Exception):
    """Usage error: reported on stderr with exit code 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with epsim's exit code 1 for usage errors (argparse's is 2)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class Counts:
    """Picks per (layer, expert), summed over files; num_experts once known."""

    def __init__(self, num_experts=None):
        self.num_experts = num_experts
        self.per_layer = {}  # layer -> {expert: count}

    def set_num_experts(self, n, where):
        if self.num_experts is not None and self.num_experts != n:
            raise InputError(f"{where}: {n} experts, but {self.num_experts} elsewhere")
        self.num_experts = n

    def add(self, layer, expert, count):
        row = self.per_layer.setdefault(layer, {})
        row[expert] = row.get(expert, 0) + count


def parse_args(argv):
    p = ArgumentParser(
        description="Convert SGLang expert-distribution dumps (.pt or per-rank CSV) into "
        "the JSON load file of `epsim synth --load`, summed over the files.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("dumps", nargs="+", help="SGLang .pt dumps and/or expert_distribution_rank*.csv files")
    p.add_argument("--num-experts", type=int, default=None,
                   help="experts per layer (the model's routed experts); needed when only CSV "
                   "files are given, checked against the .pt dumps otherwise")
    p.add_argument("-o", "--output", required=True, help="JSON file to write ('-': stdout)")
    args = p.parse_args(argv)
    if args.num_experts is not None and args.num_experts < 1:
        p.error("--num-experts must be at least 1")
    return args


def is_torch_file(path):
    """Zip archive (torch >= 1.6) or protocol-2+ pickle (older torch.save)."""
    with open(path, "rb") as f:
        head = f.read(4)
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"


def parse_count(field, name, where):
    if field.startswith("-") and field[1:].isdigit():
        raise InputError(f"{where}: {name} '{field}' is negative")
    if not (field.isascii() and field.isdigit()):
        raise InputError(f"{where}: {name} '{field}' is not a non-negative integer")
    return int(field)


def read_csv(path, counts):
    """Adds one SGLang per-rank CSV dump; the rules of sim/synth/sglang_counts.h."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e})") from e
    if not text:
        raise InputError(f"{path}:1: empty file, expected the header '{CSV_HEADER}'")
    lines = text.split("\n")
    if lines[-1] != "":
        raise InputError(f"{path}:{len(lines)}: truncated line (no newline at its end: the file was cut)")
    seen = {}
    for number, line in enumerate(lines[:-1], start=1):
        row = line[:-1] if line.endswith("\r") else line
        where = f"{path}:{number}"
        if number == 1:
            if row != CSV_HEADER:
                raise InputError(f"{where}: header '{row}', expected '{CSV_HEADER}' "
                                 "(an SGLang expert-distribution CSV)")
            continue
        if not row:
            raise InputError(f"{where}: empty line")
        fields = row.split(",")
        if len(fields) < 3:
            raise InputError(f"{where}: {len(fields)} fields, expected 3 (layer_id,expert_id,count)")
        if len(fields) > 3:
            raise InputError(f"{where}: more than 3 fields")
        layer, expert, count = (parse_count(x, n, where)
                                for x, n in zip(fields, ("layer_id", "expert_id", "count")))
        if counts.num_experts is not None and expert >= counts.num_experts:
            raise InputError(f"{where}: expert {expert} >= num_experts {counts.num_experts}")
        if (layer, expert) in seen:
            raise InputError(f"{where}: layer {layer} expert {expert} listed twice "
                             f"(first on line {seen[(layer, expert)]})")
        seen[(layer, expert)] = number
        counts.add(layer, expert, count)
    return f"SGLang CSV, {len(seen)} rows"


def integer_rows(rows, what, where):
    """Checks a [layers][experts] nested list of non-negative integers."""
    for layer, row in enumerate(rows):
        for expert, x in enumerate(row):
            if isinstance(x, float) and x.is_integer():
                x = int(x)
            if not isinstance(x, int) or isinstance(x, bool) or x < 0:
                raise InputError(f"{where}: {what}[{layer}][{expert}] = {x!r}, expected a count >= 0")
            row[expert] = x
    return rows


def add_stat(obj, counts, where):
    """'stat' mode: logical_count [passes, layers, experts] or [layers, experts]."""
    t = obj["logical_count"]
    shape = list(t.shape)
    if len(shape) not in (2, 3):
        raise InputError(f"{where}: logical_count has shape {shape}, expected "
                         "[passes, layers, experts] or [layers, experts]")
    per_pass = t.tolist() if len(shape) == 3 else [t.tolist()]
    counts.set_num_experts(shape[-1], where)
    for p, rows in enumerate(per_pass):
        for layer, row in enumerate(integer_rows(rows, f"logical_count[{p}]", where)):
            for expert, x in enumerate(row):
                if x:
                    counts.add(layer, expert, x)
    return f"stat dump, {len(per_pass)} passes x {shape[-2]} layers x {shape[-1]} experts"


def add_records(obj, counts, where):
    """'per_pass' / 'per_token' mode: physical counts per forward pass, this rank's."""
    mapping = obj["last_physical_to_logical_map"].tolist()
    if not mapping or not all(isinstance(r, list) and len(r) == len(mapping[0]) for r in mapping):
        raise InputError(f"{where}: last_physical_to_logical_map is not [layers, physical experts]")
    num_layers, num_physical = len(mapping), len(mapping[0])
    num_logical = 1 + max(max(r) for r in mapping)  # every logical expert has a replica
    counts.set_num_experts(num_logical, where)
    for i, rec in enumerate(obj["records"]):
        if not isinstance(rec, dict) or "global_physical_count" not in rec:
            raise InputError(f"{where}: records[{i}] has no global_physical_count")
        g = rec["global_physical_count"]
        if list(g.shape) != [num_layers, num_physical]:
            raise InputError(f"{where}: records[{i}].global_physical_count has shape {list(g.shape)}, "
                             f"expected [{num_layers}, {num_physical}] as the map")
        for layer, row in enumerate(integer_rows(g.tolist(), f"records[{i}].global_physical_count", where)):
            for physical, x in enumerate(row):
                if x:
                    counts.add(layer, mapping[layer][physical], x)
    return (f"per-pass dump, {len(obj['records'])} records, {num_physical} physical -> "
            f"{num_logical} logical experts (the last map)")


def add_torch_dump(obj, counts, where):
    if isinstance(obj, dict) and "logical_count" in obj:
        return add_stat(obj, counts, where)
    if isinstance(obj, dict) and "records" in obj and "last_physical_to_logical_map" in obj:
        return add_records(obj, counts, where)
    raise InputError(f"{where}: not an SGLang expert-distribution dump (no logical_count, "
                     "nor records with last_physical_to_logical_map)")


def load_torch(path):
    try:
        import torch
    except ImportError as e:
        raise InputError(f"{path}: {TORCH_HINT} ({e})") from e
    try:
        try:  # plain tensors, dicts and lists only: no code runs from the file
            return torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # a torch without weights_only
            return torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises RuntimeError, pickle errors, EOFError, ...
        raise InputError(f"{path}: cannot read as a torch dump: {e}") from e


def convert(paths, num_experts):
    """Returns the load document and one line per file read."""
    counts = Counts(num_experts)
    csv_paths, notes = [], []
    for path in paths:
        if is_torch_file(path):
            notes.append(f"{path}: {add_torch_dump(load_torch(path), counts, path)}")
        else:
            csv_paths.append(path)
    if csv_paths and counts.num_experts is None:
        raise UsageError("--num-experts is needed for CSV dumps (they do not say how many experts)")
    for path in csv_paths:  # after the .pt files, which may fix num_experts
        notes.append(f"{path}: {read_csv(path, counts)}")
    layers = sorted(layer for layer, row in counts.per_layer.items() if any(row.values()))
    if not layers:
        raise InputError(f"{', '.join(paths)}: no counts")
    load = [[counts.per_layer[layer].get(e, 0) for e in range(counts.num_experts)] for layer in layers]
    doc = {"layers": layers, "load": load, "num_experts": counts.num_experts,
           "source": "SGLang expert distribution: " + ", ".join(os.path.basename(p) for p in paths)}
    return doc, notes


def write_json(doc, output):
    text = json.dumps(doc, separators=(",", ": ")) + "\n"
    if output == "-":
        sys.stdout.write(text)
        return
    tmp = f"{output}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def log(msg):
        print(f"sglang_counts: {msg}", file=sys.stderr, flush=True)

    try:
        doc, notes = convert(args.dumps, args.num_experts)
        write_json(doc, args.output)
    except UsageError as e:
        log(f"error: {e}")
        return EXIT_USAGE
    except (InputError, OSError) as e:
        log(f"error: {e}")
        return EXIT_BAD_INPUT
    for note in notes:
        log(note)
    picks = sum(sum(row) for row in doc["load"])
    log(f"wrote {args.output}: {len(doc['layers'])} layers ({doc['layers'][0]}..{doc['layers'][-1]}), "
        f"{doc['num_experts']} experts, {picks} picks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
