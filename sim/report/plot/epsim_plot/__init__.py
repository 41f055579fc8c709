"""epsim_plot: matplotlib figures from the tables epsim writes.

tables.read(path) reads one table (kind from its header), figures.build
(tables, figures.options(...)) draws a Figure, cli.main is
`python3 -m epsim_plot` (what `epsim plot` runs). One module per table kind:
simulate, compare, sweep, bench, diff, calibrate; style holds the looks.
"""
