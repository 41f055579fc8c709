#!/usr/bin/env python3
"""epsim plot on every table kind epsim writes.

Usage: plot_test.py EPSIM WORKDIR

Makes the tables with the epsim binary (simulate csv and json, compare,
sweep csv and json, bench, diff; calibrate from a table the project
committed under experiments/calibrate/logs), then for each:
  - `epsim plot` writes a non-empty PNG (and SVG), byte-identical on a rerun;
  - the figure's artists after saving (found by gid) hold the table's values,
    parsed here independently with the csv module;
and bad tables (truncated, unknown header, non-finite figure, mixed kinds)
exit 2 naming the file and line, leaving no output file.
"""

import argparse
import csv
import io
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "sim", "report", "plot"))

failures = []
EPSIM = WORK = None


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def near(a, b, tol=1e-6):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def epsim(*args, stdout=None):
    with open(os.path.join(WORK, stdout), "w") if stdout else open(os.devnull, "w") as out:
        subprocess.run([EPSIM, *args], stdout=out, stderr=subprocess.DEVNULL, check=True, cwd=WORK)
    return os.path.join(WORK, stdout) if stdout else None


def rows(path):
    with open(path, newline="") as f:
        lines = [l for l in f if not l.startswith("#")]
    return list(csv.DictReader(lines))


def make_tables():
    os.makedirs(WORK, exist_ok=True)
    t = {}
    t["simulate"] = epsim("simulate", "--tokens", "512", "--dispatch", "classical,dedup",
                          "--format", "csv", stdout="simulate.csv")
    t["simulate_json"] = epsim("simulate", "--tokens", "512", "--dispatch", "classical,dedup",
                               "--format", "json", stdout="simulate.json")
    epsim("simulate", "--tokens", "512", "--p2p", "off", "--format", "json", stdout="shm.json")
    epsim("simulate", "--tokens", "512", "--p2p", "on", "--format", "json", stdout="p2p.json")
    t["diff"] = epsim("diff", "shm.json", "p2p.json", "--by", "kind", "--format", "csv",
                      stdout="diff.csv")
    t["compare"] = epsim("compare", "--tokens", "512", "--placements", "contiguous,occult",
                         "--dispatch", "classical,dedup", "--format", "csv", stdout="compare.csv")
    t["sweep"] = epsim("sweep", "--tokens", "256,512", "--dispatch", "classical,dedup",
                       "--topology", "a6000-x4-pcie-gen4", "-j", "2", "--format", "csv",
                       stdout="sweep.csv")
    t["sweep_json"] = epsim("sweep", "--tokens", "256,512", "--dispatch", "classical,dedup",
                            "-j", "2", "--format", "json", stdout="sweep.json")
    t["bench"] = epsim("bench", "alltoall", "--topology", "a6000-x4-pcie-gen4", "-b", "1K",
                       "-e", "1M", "-f", "4", "--format", "csv", stdout="bench.csv")
    t["calibrate"] = os.path.join(ROOT, "experiments", "calibrate", "logs", "a100-x8-sendrecv.csv")
    return t


def plot(*args):
    return subprocess.run([EPSIM, "plot", *args], capture_output=True, text=True, cwd=WORK)


def figure(paths, name=None, labels=None, x=None):
    """The Figure epsim plot draws, after a save (so artists are final)."""
    import matplotlib
    matplotlib.use("Agg")
    from epsim_plot import figures, tables
    fig = figures.build([tables.read(p) for p in paths], figures.options(name, "", labels, x))
    fig.savefig(io.BytesIO(), format="png")
    return fig


def by_gid(fig):
    found = {}
    for ax in fig.axes:
        for artist in ax.get_children():
            if artist.get_gid():
                found[artist.get_gid()] = (ax, artist)
    return found


def scale_of(ax):
    label = ax.get_ylabel()
    return 1e6 if label.endswith("(s)") else 1e3 if label.endswith("(ms)") else 1.0


def test_files(kind, path, figure_names):
    for name in figure_names:
        out = os.path.join(WORK, f"{kind}-{name}.png")
        r = plot(path, "-o", out, "--svg", "--figure", name)
        check(r.returncode == 0, f"{kind} {name}: exit {r.returncode}: {r.stderr}")
        if r.returncode:
            continue
        png, svg = open(out, "rb").read(), open(out[:-4] + ".svg", "rb").read()
        check(png.startswith(b"\x89PNG") and len(png) > 5000, f"{kind} {name}: PNG")
        check(b"<svg" in svg, f"{kind} {name}: SVG")
        plot(path, "-o", out, "--svg", "--figure", name)
        check(open(out, "rb").read() == png, f"{kind} {name}: PNG differs on a rerun")
        check(open(out[:-4] + ".svg", "rb").read() == svg, f"{kind} {name}: SVG differs on a rerun")


def test_simulate(path):
    fig = figure([path])
    artists = by_gid(fig)
    table = rows(path)
    for strategy in ("classical", "dedup"):
        total = [r for r in table if r["strategy"] == strategy and r["layer"] == "all"
                 and r["phase"] == "total"][0]
        ax, line = artists[f"total:{strategy}"]
        check(near(line.get_ydata()[0] * scale_of(ax), float(total["critical_us"]), 1e-9),
              f"simulate: {strategy} pass time line")
        parts = [a for g, (x, a) in artists.items() if g.startswith("total-part:") and
                 g.endswith(":" + strategy)]
        check(near(sum(p.get_height() for p in parts) * scale_of(ax),
                   float(total["critical_us"]), 1e-6), f"simulate: {strategy} parts add up")
        dispatch = sum(float(r["critical_us"]) for r in table if r["strategy"] == strategy
                       and r["layer"] == "all" and r["phase"] == "dispatch")
        ax, bar = artists[f"total-part:dispatch:{strategy}"]
        check(near(bar.get_height() * scale_of(ax), dispatch, 1e-9), f"simulate: {strategy} dispatch")
    classical = float([r for r in table if r["strategy"] == "classical" and r["layer"] == "all"
                       and r["phase"] == "total"][0]["critical_us"])
    dedup = float([r for r in table if r["strategy"] == "dedup" and r["layer"] == "all"
                   and r["phase"] == "total"][0]["critical_us"])
    check(artists["speedup:dedup"][1].get_text() == f"{classical / dedup:.2f}x", "simulate: speedup")


def test_compare(path):
    artists = by_gid(figure([path]))
    for r in rows(path):
        name = f"{r['placement']}/{r['dispatch']}"
        ax, line = artists[f"total:{name}"]
        check(near(line.get_ydata()[0] * scale_of(ax), float(r["total_us"]), 1e-9),
              f"compare: {name} total")
        ax, bar = artists[f"bar:expert:{name}"]
        check(near(bar.get_height() * scale_of(ax), float(r["expert_us"]), 1e-9),
              f"compare: {name} expert")
        if r["speedup"]:
            check(artists[f"speedup:{name}"][1].get_text() == f"{float(r['speedup']):.2f}x",
                  f"compare: {name} speedup")


def pid(r):
    columns = ["model", "trace", "tokens", "seed", "topology", "calibrated", "ep", "placement",
               "dispatch", "pass", "overlap", "context", "p2p"]
    return ";".join(f"{c}={r[c]}" for c in columns if r[c] != "")


def test_sweep(path):
    table = rows(path)
    totals = [r for r in table if r["phase"] == "total"]
    check(len(totals) == 4, f"sweep: {len(totals)} points, expected 4")
    artists = by_gid(figure([path], "latency"))
    for r in totals:
        ax, bar = artists[f"total:{pid(r)}"]
        check(near(bar.get_height() * scale_of(ax), float(r["time_us"]), 1e-9), f"sweep: {pid(r)}")
        if r["dispatch"] == "dedup":
            check(artists[f"speedup:{pid(r)}"][1].get_text() == f"{float(r['speedup']):.2f}x",
                  "sweep: speedup label")
    artists = by_gid(figure([path], "breakdown"))
    for r in totals:
        parts = [r2 for r2 in table if pid(r2) == pid(r) and r2["phase"] != "total"]
        heights = 0.0
        for part in parts:
            ax, bar = artists[f"bar:{part['phase']}:{pid(r)}"]
            check(near(bar.get_height() * scale_of(ax), float(part["time_us"]), 1e-9),
                  f"sweep breakdown: {part['phase']}")
            heights += bar.get_height() * scale_of(ax)
        check(near(heights, float(r["time_us"]), 1e-6), f"sweep breakdown adds up: {pid(r)}")
    artists = by_gid(figure([path], "vs"))
    for strategy in ("classical", "dedup"):
        ax, line = artists[f"line:{strategy}"]
        expect = sorted((int(r["tokens"]), float(r["time_us"])) for r in totals
                        if r["dispatch"] == strategy)
        check(list(line.get_xdata()) == [e[0] for e in expect], f"sweep vs: {strategy} x")
        check(all(near(y * scale_of(ax), e[1], 1e-9) for y, e in zip(line.get_ydata(), expect)),
              f"sweep vs: {strategy} y")
        check(ax.get_xlabel() == "tokens", "sweep vs: x label")


def test_bench(path):
    artists = by_gid(figure([path], labels=["simulated"]))
    ax, line = artists["line:simulated"]
    table = rows(path)
    check(list(line.get_xdata()) == [float(r["size_bytes"]) for r in table], "bench: sizes")
    check(all(near(y, float(r["busbw_gbps"]), 1e-12) for y, r in zip(line.get_ydata(), table)),
          "bench: busbw")


def test_diff(path):
    artists = by_gid(figure([path]))
    total = [r for r in rows(path) if r["metric"] == "total_time"][0]
    ax, star = [v for g, v in artists.items() if g.startswith("total:")][0]
    b, a = star.get_offsets()[0]  # B (the reference) on x
    check(near(a, float(total["a_us"]), 1e-9) and near(b, float(total["b_us"]), 1e-9),
          "diff: pass time star")


def test_calibrate(path):
    artists = by_gid(figure([path]))
    table = rows(path)
    for split in ("training", "held out"):
        sel = [r for r in table if r["split"] == split and float(r["measured_us"]) > 0]
        if not sel:
            continue
        ax, dots = artists[f"after:{split}"]
        got = [tuple(o) for o in dots.get_offsets()]
        want = [(float(r["measured_us"]), float(r["after_us"])) for r in sel]
        check(len(got) == len(want) and all(near(g[0], w[0]) and near(g[1], w[1])
                                            for g, w in zip(got, want)), f"calibrate: {split}")


def test_bad_inputs(t):
    def refused(name, text, expect):
        path = os.path.join(WORK, name)
        with open(path, "w") as f:
            f.write(text)
        out = os.path.join(WORK, name + ".png")
        r = plot(path, "-o", out)
        check(r.returncode == 2, f"bad {name}: exit {r.returncode}")
        check(expect in r.stderr and path in r.stderr, f"bad {name}: message '{r.stderr.strip()}'")
        check(not os.path.exists(out), f"bad {name}: an output file was written")
        check(not [f for f in os.listdir(WORK) if f.startswith(".epsim-plot.")],
              f"bad {name}: a temporary was left")
    sweep = open(t["sweep"]).read()
    lines = sweep.splitlines()
    refused("truncated.csv", "\n".join(lines[:3] + [lines[3].rsplit(",", 3)[0]]) + "\n", "line 4")
    refused("header.csv", "a,b,c\n1,2,3\n", "line 1: unknown header")
    fields = lines[2].split(",")
    fields[14] = "nan"
    refused("nan.csv", "\n".join(lines[:2] + [",".join(fields)]) + "\n", "line 3")
    refused("empty.csv", "", "no header")
    r = plot(t["sweep"], t["bench"], "-o", os.path.join(WORK, "mixed.png"))
    check(r.returncode == 2 and "a bench table cannot be drawn with" in r.stderr, "mixed kinds")
    r = plot(t["sweep"], "-o", os.path.join(WORK, "no-such-dir", "x.png"))
    check(r.returncode == 2 and "no-such-dir" in r.stderr, f"unwritable output: {r.stderr}")
    r = plot(t["sweep"], "-o", os.path.join(WORK, "x.pdf"))
    check(r.returncode == 1 and ".png or .svg" in r.stderr, "bad extension is a usage error")
    r = plot(t["sweep"], "-o", os.path.join(WORK, "x.png"), "--figure", "pie")
    check(r.returncode == 2 and "figure 'pie' is not one of" in r.stderr, "unknown figure")


def main():
    global EPSIM, WORK
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("epsim", help="the epsim binary")
    p.add_argument("workdir", help="folder for the tables and figures")
    args = p.parse_args()
    EPSIM, WORK = os.path.abspath(args.epsim), os.path.abspath(args.workdir)
    t = make_tables()
    test_files("simulate", t["simulate"], ["latency", "breakdown"])
    test_files("simulate-json", t["simulate_json"], ["latency"])
    test_files("compare", t["compare"], ["latency", "ct"])
    test_files("sweep", t["sweep"], ["latency", "breakdown", "vs", "ct", "comm-share"])
    test_files("sweep-json", t["sweep_json"], ["latency"])
    test_files("bench", t["bench"], ["busbw", "time"])
    test_files("diff", t["diff"], ["scatter"])
    test_files("calibrate", t["calibrate"], ["scatter"])
    test_simulate(t["simulate"])
    test_compare(t["compare"])
    test_sweep(t["sweep"])
    test_bench(t["bench"])
    test_diff(t["diff"])
    test_calibrate(t["calibrate"])
    test_bad_inputs(t)
    if failures:
        print(f"plot_test: {len(failures)} failures", file=sys.stderr)
        return 1
    print("plot_test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
