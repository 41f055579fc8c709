#include "sim/report/summary.h"

#include <algorithm>

namespace epsim::report {

namespace {


// Adds one phase to its layer's row; `span` tracks [earliest start, latest end].
void AddPhase(const proto::PhaseTiming& phase, uint64_t max_rank_bytes,
              LayerSummary* row, std::pair<double, double>* span) {
  const double time_s = phase.critical_s();
  row->time_s += time_s;
  row->wait_mean_s += phase.wait_mean_s();
  switch (phase.kind()) {
    // Hierarchical dispatch and combine have a second, intra-node stage;
    // the columns add both stages.
    case proto::DISPATCH:
    case proto::DISPATCH_FORWARD:
    case proto::DISPATCH_BACKWARD:  // training: each column adds its phase's backward
      row->dispatch_bytes += phase.bytes();
      row->dispatch_max_rank_bytes += max_rank_bytes;
      row->dispatch_time_s += time_s;
      row->dispatch_busy_max_s += phase.busy_max_s();
      break;
    case proto::EXPERT:
    case proto::EXPERT_BACKWARD:
      row->expert_time_s += time_s;
      break;
    case proto::COMBINE_BACKWARD:
    case proto::COMBINE:
    case proto::COMBINE_GATHER:
      row->combine_bytes += phase.bytes();
      row->combine_time_s += time_s;
      break;
    default:
      row->other_time_s += time_s;
      break;
  }
  span->first = std::min(span->first, phase.start_s());
  span->second = std::max(span->second, phase.end_s());
}

}  // namespace

bool IsCommunicationKind(proto::PhaseKind kind) {
  return kind == proto::DISPATCH || kind == proto::COMBINE || kind == proto::DISPATCH_FORWARD ||
         kind == proto::COMBINE_GATHER || kind == proto::COMBINE_BACKWARD ||
         kind == proto::DISPATCH_BACKWARD || kind == proto::GRADIENT_ALLREDUCE;
}

double PhaseTime(const proto::PhaseTiming& phase) { return phase.end_s() - phase.start_s(); }

std::map<uint32_t, uint64_t> MaxRankBytesByPhase(const proto::Report& report) {
  std::map<uint32_t, uint64_t> max_bytes;
  for (const proto::OpTiming& op : report.ops()) {
    uint64_t& slot = max_bytes[op.phase()];
    slot = std::max(slot, op.bytes());
  }
  // Without per-rank ops, assume the phase's bytes were spread evenly.
  const uint64_t num_ranks = std::max<uint64_t>(report.num_ranks(), 1);
  for (const proto::PhaseTiming& phase : report.phases()) {
    if (IsCommunicationKind(phase.kind()) && !max_bytes.count(phase.phase()))
      max_bytes[phase.phase()] = phase.bytes() / num_ranks;
  }
  return max_bytes;
}

std::vector<LayerSummary> SummarizeLayers(const proto::Report& report) {
  const std::map<uint32_t, uint64_t> max_bytes = MaxRankBytesByPhase(report);
  std::map<uint32_t, LayerSummary> rows;
  std::map<uint32_t, std::pair<double, double>> spans;
  for (const proto::PhaseTiming& phase : report.phases()) {
    LayerSummary& row = rows[phase.layer()];
    row.layer = phase.layer();
    auto [it, inserted] = spans.try_emplace(phase.layer(), phase.start_s(), phase.end_s());
    auto found = max_bytes.find(phase.phase());
    AddPhase(phase, found == max_bytes.end() ? 0 : found->second, &row, &it->second);
  }
  std::vector<LayerSummary> out;
  for (auto& [layer, row] : rows) {
    row.span_s = spans[layer].second - spans[layer].first;
    out.push_back(row);
  }
  return out;
}

LayerSummary SummarizeTotal(const proto::Report& report,
                            const std::vector<LayerSummary>& layers) {
  LayerSummary total;
  for (const LayerSummary& row : layers) {
    total.dispatch_bytes += row.dispatch_bytes;
    total.dispatch_max_rank_bytes += row.dispatch_max_rank_bytes;
    total.dispatch_time_s += row.dispatch_time_s;
    total.dispatch_busy_max_s += row.dispatch_busy_max_s;
    total.wait_mean_s += row.wait_mean_s;
    total.time_s += row.time_s;
    total.expert_time_s += row.expert_time_s;
    total.combine_bytes += row.combine_bytes;
    total.combine_time_s += row.combine_time_s;
    total.other_time_s += row.other_time_s;
  }
  total.span_s = report.total_time_s();
  return total;
}

std::vector<KindTotal> TotalsByKind(const proto::Report& report) {
  std::map<int, KindTotal> by_kind;  // ordered by PhaseKind value
  for (const proto::PhaseTiming& phase : report.phases()) {
    KindTotal& total = by_kind[phase.kind()];
    total.kind = phase.kind();
    total.bytes += phase.bytes();
    total.rows += phase.rows();
    total.time_s += PhaseTime(phase);
    total.critical_s += phase.critical_s();
    total.busy_max_s += phase.busy_max_s();
    total.busy_mean_s += phase.busy_mean_s();
    total.wait_max_s += phase.wait_max_s();
    total.wait_mean_s += phase.wait_mean_s();
  }
  std::vector<KindTotal> out;
  for (const auto& [kind, total] : by_kind) out.push_back(total);
  return out;
}

namespace {

using Intervals = std::vector<std::pair<double, double>>;

// Sorted, disjoint.
Intervals Union(Intervals v) {
  std::sort(v.begin(), v.end());
  Intervals out;
  for (const auto& [a, b] : v) {
    if (b <= a) continue;
    if (!out.empty() && a <= out.back().second)
      out.back().second = std::max(out.back().second, b);
    else
      out.push_back({a, b});
  }
  return out;
}

double Length(const Intervals& v) {
  double sum = 0;
  for (const auto& [a, b] : v) sum += b - a;
  return sum;
}

// Both sorted and disjoint.
double OverlapLength(const Intervals& x, const Intervals& y) {
  double sum = 0;
  for (size_t i = 0, j = 0; i < x.size() && j < y.size();) {
    sum += std::max(0.0, std::min(x[i].second, y[j].second) - std::max(x[i].first, y[j].first));
    if (x[i].second < y[j].second) ++i; else ++j;
  }
  return sum;
}

}  // namespace

CommunicationShare CommunicationOf(const proto::Report& report) {
  CommunicationShare c;
  const uint32_t n = report.num_ranks();
  if (n == 0 || report.ops().empty()) return c;
  std::map<uint32_t, bool> comm;  // phase -> is an all-to-all
  for (const proto::PhaseTiming& phase : report.phases())
    comm[phase.phase()] = IsCommunicationKind(phase.kind());
  std::vector<Intervals> a2a(n), compute(n);
  for (const proto::OpTiming& op : report.ops()) {
    if (op.rank() >= n) continue;
    auto it = comm.find(op.phase());
    if (it == comm.end()) continue;
    (it->second ? a2a : compute)[op.rank()].push_back({op.start_s(), op.end_s()});
  }
  for (uint32_t r = 0; r < n; ++r) {
    const Intervals x = Union(a2a[r]), y = Union(compute[r]);
    c.busy_s += Length(x) / n;
    c.hidden_s += OverlapLength(x, y) / n;
  }
  c.hidden = c.busy_s > 0 ? std::clamp(c.hidden_s / c.busy_s, 0.0, 1.0) : 0.0;
  return c;
}

double AlgBwGbps(uint64_t bytes, double time_s) {
  return time_s > 0 ? static_cast<double>(bytes) / time_s / 1e9 : 0.0;
}

std::string ReportName(const proto::Report& report) {
  return report.strategy() + " / " + report.placement();
}

}  // namespace epsim::report
