// A sweep: the grid of jobs `epsim sweep` simulates, one point per
// combination of the values of its axes (model, trace, tokens, ...), each
// axis given in a sweep file or on the command line. No SimGrid here: the
// grid is parsed, expanded and checked (models, topologies and traces found,
// EP sizes against the topologies) before anything runs.
//
// Sweep file format (text, one axis per line):
//   # OLMoE at 8- and 16-way EP          '#' starts a comment
//   model    = olmoe-1b-7b               key = value, value, ...
//   topology = a6000-x8-2socket, a6000-2node-x8-100g
//   dispatch = classical, dedup, pruned:2:score
//   tokens   = 4096, 16384
// Keys are the axes below (the `epsim simulate` flags of the same names);
// each at most once. A key on the command line replaces the file's line.
// Errors name the file and line: "sweep.txt:3: unknown key 'modle' (did you
// mean 'model'?)".
#ifndef EPSIM_SIM_SWEEP_GRID_H_
#define EPSIM_SIM_SWEEP_GRID_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/plan/job.h"

namespace epsim::sweep {

// The axes, in the order the table's input columns have them (with
// "calibrated" after "topology": a column, not an axis), and their
// defaults: the defaults of `epsim simulate` (ep 0: every GPU of the
// topology; trace "synthetic": generated routing; p2p "default": the
// topology's own setting).
inline constexpr std::array<const char*, 12> kAxisKeys = {
    "model", "trace", "tokens", "seed", "topology", "ep",
    "placement", "dispatch", "pass", "overlap", "context", "p2p"};
enum AxisIndex {
  kModel, kTrace, kTokens, kSeed, kTopology, kEp, kPlacement, kDispatch, kPass, kOverlap,
  kContext, kP2p, kNumAxes
};

struct Axis {
  std::vector<std::string> values;  // in the order given, repeats removed
  std::string where;                // "sweep.txt:3", "--tokens" or "default"
};
using Axes = std::array<Axis, kNumAxes>;

// The axes a sweep file gives (the others have no values).
Result<Axes> ParseSweepFile(const std::string& text, const std::string& path);

// `file` with every axis `flags` has values for replaced, then defaults for
// the rest. Checks each value's form (numbers, pass, overlap, p2p, dispatch
// strategies by their canonical names), naming the value's `where`.
Result<Axes> CompleteAxes(const Axes& file, const Axes& flags);

// One point: what `epsim simulate` runs, and the table's input columns.
struct Point {
  plan::RunFlags flags;
  std::string dispatch;   // canonical strategy name
  std::string placement;
  std::string p2p;        // "" for the topology's own
  // model, trace, tokens, seed, topology, calibrated, ep, placement,
  // dispatch, pass, overlap, context, p2p (sweep_table.h's columns).
  std::vector<std::string> columns;
};

// The points, checked: models and traces found, each topology loaded (its
// GPU count resolves ep 0; "calibrated" is yes for a file `epsim calibrate`
// wrote). A point whose EP size exceeds its topology's GPUs is left out and
// named in `skipped`; none left is an error. Order: the axes' order, the
// first slowest and dispatch fastest, so points that differ only in their
// strategy are neighbours (a job plans them on one trace).
Result<std::vector<Point>> ExpandGrid(const Axes& axes, std::vector<std::string>* skipped);

// Points [begin, end) that differ only in dispatch: one simulation.
struct Job {
  size_t begin = 0, end = 0;
};
std::vector<Job> JobsOf(const std::vector<Point>& points);

// The key of a point in a table: its input columns joined.
std::string PointKey(const std::vector<std::string>& columns);

}  // namespace epsim::sweep

#endif  // EPSIM_SIM_SWEEP_GRID_H_
