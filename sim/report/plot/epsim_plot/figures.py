"""Builds a matplotlib Figure from tables: the importable core of epsim plot.

build(tables, options) picks the module of the tables' kind (all tables of
one figure share it) and the figure (options.figure, else the kind's
default), names the tables for the legend (options.labels, else the json
context's source, else the file name) and draws on a fresh Figure with
constrained layout, so that titles and outside legends are never clipped.
Nothing here writes a file; errors in a table raise tables.TableError.
"""

from types import SimpleNamespace

from . import bench, calibrate, compare, diff, simulate, sweep, tables as tables_mod

MODULES = {"simulate": simulate, "compare": compare, "sweep": sweep, "bench": bench,
           "diff": diff, "calibrate": calibrate}


def options(figure=None, title="", labels=None, x=None):
    """The options build() reads, with the command line's defaults."""
    return SimpleNamespace(figure=figure, title=title, labels=labels or [], x=x)


def figure_names(kind):
    """(default, [names]) of the figures a table kind can draw."""
    module = MODULES[kind]
    return module.DEFAULT, list(module.FIGURES)


def check(tables, opts):
    """The kind and figure name to draw, or TableError naming the offending file."""
    kind = tables[0].kind
    for table in tables[1:]:
        if table.kind != kind:
            raise tables_mod.TableError(table.path, "line 1", f"a {table.kind} table cannot be "
                                        f"drawn with {tables[0].path}, a {kind} table")
    default, names = figure_names(kind)
    name = opts.figure or default
    if name not in names:
        raise tables_mod.TableError(tables[0].path, "line 1",
                                    f"figure '{name}' is not one of {', '.join(names)} "
                                    f"for a {kind} table")
    return kind, name


def build(tables, opts):
    """A matplotlib Figure drawing `tables` (tables.Table, one kind) as opts says."""
    from matplotlib.figure import Figure
    kind, name = check(tables, opts)
    for i, table in enumerate(tables):
        table.label = opts.labels[i] if i < len(opts.labels) else tables_mod.default_label(table)
    module = MODULES[kind]
    sizes = getattr(module, "SIZES", {})
    fig = Figure(figsize=sizes.get(name, (9, 5.5)), layout="constrained")
    module.FIGURES[name](fig, tables, opts)
    return fig
