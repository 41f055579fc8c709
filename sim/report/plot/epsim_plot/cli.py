"""The command line: python3 -m epsim_plot TABLE [TABLE ...] -o OUT [options].

Reads every TABLE (a csv or json that an epsim command wrote; the kind comes
from the header), draws one figure and writes OUT, PNG or SVG by its
extension (--svg: also OUT with .svg beside a .png). The figure is saved to
a temporary file beside OUT and renamed into place, so a failure leaves no
partial file, and with no date and a fixed SVG hash salt, so the same tables
give byte-identical files. Exit codes: 0 ok, 1 usage, 2 bad input (message
`epsim plot: FILE: line N: what`), 4 internal error.
"""

import argparse
import os
import sys
import tempfile
import traceback

PROG = "epsim plot"
FIGURES_HELP = ("simulate: latency (default), breakdown; compare: latency (default), ct; "
                "sweep: latency (default), breakdown, vs, ct, comm-share; "
                "bench: busbw (default), time; diff: scatter; calibrate: scatter")


class Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 1, as every epsim command
        self.print_usage(sys.stderr)
        print(f"{PROG}: {message}", file=sys.stderr)
        sys.exit(1)


def parser():
    p = Parser(prog=PROG, description="Draws a figure from tables epsim writes (simulate, "
               "compare, sweep, bench, diff, calibrate; csv or json).",
               epilog="Figures per table kind: " + FIGURES_HELP + ". Exit codes: 0 ok, 1 usage, "
               "2 bad input, 4 internal error.")
    p.add_argument("tables", nargs="+", metavar="TABLE", help="csv or json written by epsim")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="figure to write: .png or .svg")
    p.add_argument("--svg", action="store_true", help="with a .png OUT, also write OUT's .svg")
    p.add_argument("--figure", metavar="NAME", help="which figure (default: the kind's first)")
    p.add_argument("--title", default="", metavar="TEXT",
                   help="title line above the automatic one")
    p.add_argument("--label", action="append", default=[], metavar="NAME", dest="labels",
                   help="legend name of each TABLE, once per TABLE (e.g. simulated, measured)")
    p.add_argument("--x", metavar="COLUMN",
                   help="sweep vs figure: the numeric input on x (default: the varying one)")
    return p


def outputs(args, p):
    """[(path, format)] to write."""
    base, ext = os.path.splitext(args.output)
    if ext.lower() not in (".png", ".svg"):
        p.error(f"-o {args.output}: the name must end in .png or .svg")
    out = [(args.output, ext.lower()[1:])]
    if args.svg and ext.lower() == ".png":
        out.append((base + ".svg", "svg"))
    return out


def save(fig, path, fmt):
    """Writes fig to path atomically and deterministically."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix="." + fmt, prefix=".epsim-plot.", dir=directory)
    os.close(fd)
    try:
        metadata = {"Date": None} if fmt == "svg" else {"Software": "epsim plot (matplotlib)"}
        fig.savefig(tmp, format=fmt, dpi=110, metadata=metadata)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a figure is for sharing
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_matplotlib():
    try:
        import matplotlib
    except ImportError:
        print(f"{PROG}: needs matplotlib: apt install python3-matplotlib", file=sys.stderr)
        sys.exit(4)
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "epsim-plot"
    matplotlib.rcParams["path.simplify"] = False  # read-back data stays the table's


def run(args, p):
    from . import figures, tables
    if args.labels and len(args.labels) != len(args.tables):
        p.error(f"{len(args.labels)} --label for {len(args.tables)} tables: give one per TABLE")
    targets = outputs(args, p)
    load_matplotlib()
    try:
        read = [tables.read(path) for path in args.tables]
        fig = figures.build(read, figures.options(args.figure, args.title, args.labels, args.x))
    except tables.TableError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    try:
        for path, fmt in targets:
            save(fig, path, fmt)
    except OSError as e:
        print(f"{PROG}: {e.filename or args.output}: {e.strerror}", file=sys.stderr)
        return 2
    return 0


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    try:
        return run(args, p)
    except Exception:  # a defect here, not bad input: say so, with the trace
        traceback.print_exc()
        print(f"{PROG}: internal error", file=sys.stderr)
        return 4
