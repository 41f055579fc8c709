#include "sim/report/diff.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "sim/report/summary.h"

namespace epsim::report {

namespace {

using RowKey = std::pair<uint32_t, int>;  // (layer, phase kind)

struct Busy {
  double max_s = 0;
  double mean_s = 0;
};

// One run's busy times per (layer, kind), and the order keys first appear.
struct Side {
  std::map<RowKey, Busy> busy;
  std::vector<RowKey> order;
};

Side Collect(const proto::Report& report) {
  Side side;
  for (const proto::PhaseTiming& phase : report.phases()) {
    const RowKey key{phase.layer(), phase.kind()};
    auto [it, inserted] = side.busy.try_emplace(key);
    if (inserted) side.order.push_back(key);
    it->second.max_s += phase.busy_max_s();
    it->second.mean_s += phase.busy_mean_s();
  }
  return side;
}

// Ascending layer; inside a layer A's order (the schedule's), then what only
// B has, in B's order.
std::vector<RowKey> RowOrder(const Side& a, const Side& b) {
  std::vector<std::tuple<uint32_t, int, size_t, RowKey>> ranked;
  for (size_t i = 0; i < a.order.size(); ++i)
    ranked.emplace_back(a.order[i].first, 0, i, a.order[i]);
  for (size_t i = 0; i < b.order.size(); ++i)
    if (!a.busy.count(b.order[i])) ranked.emplace_back(b.order[i].first, 1, i, b.order[i]);
  std::sort(ranked.begin(), ranked.end());
  std::vector<RowKey> keys;
  for (const auto& entry : ranked) keys.push_back(std::get<3>(entry));
  return keys;
}

DiffRow LayerRow(const RowKey& key, const Side& a, const Side& b) {
  DiffRow row;
  row.layer = key.first;
  row.kind = static_cast<proto::PhaseKind>(key.second);
  if (auto it = a.busy.find(key); it != a.busy.end()) {
    row.busy_max.a_s = it->second.max_s;
    row.busy_mean.a_s = it->second.mean_s;
  }
  if (auto it = b.busy.find(key); it != b.busy.end()) {
    row.busy_max.b_s = it->second.max_s;
    row.busy_mean.b_s = it->second.mean_s;
  }
  return row;
}

void AddCell(const DiffCell& from, DiffCell* to) {
  to->a_s = to->a_s.value_or(0) + *from.a_s;
  to->b_s = to->b_s.value_or(0) + *from.b_s;
}

// Sums of the rows both sides have, per kind in PhaseKind order.
std::vector<DiffRow> KindRows(const std::vector<DiffRow>& layers) {
  std::map<int, DiffRow> by_kind;
  for (const DiffRow& row : layers) {
    if (!row.busy_max.a_s || !row.busy_max.b_s) continue;
    DiffRow& kind = by_kind[row.kind];
    kind.kind = row.kind;
    AddCell(row.busy_max, &kind.busy_max);
    AddCell(row.busy_mean, &kind.busy_mean);
  }
  std::vector<DiffRow> out;
  for (const auto& [kind, row] : by_kind) out.push_back(row);
  return out;
}

std::optional<double> WeightedError(const std::vector<DiffRow>& kinds) {
  double abs_diff_s = 0, b_s = 0;
  for (const DiffRow& row : kinds) {
    abs_diff_s += std::abs(*row.busy_max.a_s - *row.busy_max.b_s);
    b_s += *row.busy_max.b_s;
  }
  if (b_s <= 0) return std::nullopt;
  return abs_diff_s / b_s * 100;
}

proto::Report WithoutPhases(const proto::Report& report) {
  proto::Report copy = report;
  copy.clear_phases();
  copy.clear_ops();
  return copy;
}

std::string RunNames(const ReportFile& file) {
  std::string names;
  for (const proto::Report& r : file.reports) names += (names.empty() ? "" : ", ") + ReportName(r);
  return names;
}

const proto::Report* FindRun(const ReportFile& file, const proto::Report& like) {
  for (const proto::Report& r : file.reports)
    if (r.strategy() == like.strategy() && r.placement() == like.placement()) return &r;
  return nullptr;
}

}  // namespace

std::optional<double> ErrorPct(const DiffCell& cell) {
  if (!cell.a_s || !cell.b_s || *cell.b_s == 0) return std::nullopt;
  return (*cell.a_s - *cell.b_s) / *cell.b_s * 100;
}

RunDiff DiffRuns(const proto::Report& a, const proto::Report& b) {
  RunDiff diff;
  diff.a = WithoutPhases(a);
  diff.b = WithoutPhases(b);
  const Side side_a = Collect(a), side_b = Collect(b);
  for (const RowKey& key : RowOrder(side_a, side_b))
    diff.layers.push_back(LayerRow(key, side_a, side_b));
  diff.kinds = KindRows(diff.layers);
  diff.total = {a.total_time_s(), b.total_time_s()};
  diff.weighted_error_pct = WeightedError(diff.kinds);
  return diff;
}

Result<ReportDiff> DiffReports(const ReportFile& a, const ReportFile& b) {
  ReportDiff diff;
  if (a.reports.size() == 1 && b.reports.size() == 1) {
    diff.runs.push_back(DiffRuns(a.reports[0], b.reports[0]));
    return diff;
  }
  for (const proto::Report& run : a.reports) {
    if (const proto::Report* partner = FindRun(b, run))
      diff.runs.push_back(DiffRuns(run, *partner));
    else
      diff.a_only_runs.push_back(ReportName(run));
  }
  for (const proto::Report& run : b.reports)
    if (!FindRun(a, run)) diff.b_only_runs.push_back(ReportName(run));
  if (diff.runs.empty()) {
    return Status::BadInput("no run of " + a.path + " matches a run of " + b.path +
                            " by (strategy, placement): " + a.path + " has " + RunNames(a) +
                            "; " + b.path + " has " + RunNames(b));
  }
  return diff;
}

}  // namespace epsim::report
