#include "sim/plan/routing_stats.h"

#include <map>
#include <memory>

#include <fmt/format.h>

#include "sim/dispatch/strategy.h"
#include "sim/dispatch/token_split.h"
#include "sim/trace/reader.h"

namespace epsim::plan {
namespace {

struct LayerSums {
  uint64_t tokens_seen = 0;
  uint64_t devices = 0;
  uint64_t rows_classical = 0;
  uint64_t rows_dedup = 0;
  LayerDetail detail;
};

// Adds a routed token's rows that leave `src` to `matrix`; returns how many.
uint64_t AddRemoteRows(const dispatch::RoutedToken& routed, uint32_t src, uint32_t num_ranks,
                       std::vector<uint64_t>* matrix) {
  uint64_t n = 0;
  for (const dispatch::DispatchRow& row : routed.rows) {
    if (row.rank == src) continue;
    ++(*matrix)[size_t{src} * num_ranks + row.rank];
    ++n;
  }
  return n;
}

// Adds one token held by `src` to the sums, routing it with the strategies
// themselves: a dedup row per distinct device, a classical row per expert.
class TokenCounter {
 public:
  explicit TokenCounter(const placement::Placement& placement)
      : placement_(placement),
        cluster_(dispatch::ClusterMap::SingleHost(placement.num_ranks())),
        ctx_{placement_, cluster_, nullptr},
        classical_(dispatch::MakeClassical()),
        dedup_(dispatch::MakeDedup()) {}

  void Count(const dispatch::TokenView& token, uint32_t src, LayerSums* sums) {
    const uint32_t d = placement_.num_ranks();
    classical_->Route(token, src, ctx_, &routed_);
    sums->rows_classical += AddRemoteRows(routed_, src, d, &sums->detail.traffic_classical);
    dedup_->Route(token, src, ctx_, &routed_);
    sums->devices += routed_.rows.size();
    sums->rows_dedup += AddRemoteRows(routed_, src, d, &sums->detail.traffic_dedup);
  }

 private:
  const placement::Placement& placement_;
  const dispatch::ClusterMap cluster_;
  const dispatch::RouteContext ctx_;
  std::unique_ptr<dispatch::Strategy> classical_, dedup_;
  dispatch::RoutedToken routed_;
};

// Fraction of the off-diagonal mass of `m` whose two experts share a device.
double SameDeviceFraction(const trace::CountMatrix& m, const placement::Placement& p) {
  double same = 0, total = 0;
  for (uint32_t i = 0; i < m.n; ++i)
    for (uint32_t j = 0; j < m.n; ++j) {
      total += m.at(i, j);
      if (p.RankOf(i) == p.RankOf(j)) same += m.at(i, j);
    }
  return total > 0 ? same / total : 0;
}

LayerStats Finish(const LayerSums& s, const trace::LayerRoutingStats& t,
                  const placement::Placement& p, LayerDetail* detail) {
  const double n = static_cast<double>(s.tokens_seen);
  LayerStats out;
  out.layer = t.layer;
  out.num_tokens = n;
  out.ct_mean = n > 0 ? s.devices / n : 0;
  out.rows_classical = n > 0 ? s.rows_classical / n : 0;
  out.rows_dedup = n > 0 ? s.rows_dedup / n : 0;
  out.load_imbalance = trace::Imbalance(t.load);
  out.load_cv = trace::CoefficientOfVariation(t.load);
  *detail = s.detail;
  detail->device_load.assign(p.num_ranks(), 0);
  for (uint32_t e = 0; e < t.load.size(); ++e) detail->device_load[p.RankOf(e)] += t.load[e];
  out.device_imbalance = trace::Imbalance(detail->device_load);
  trace::CountMatrix pairs = t.coact;  // off-diagonal pairs only
  for (uint32_t i = 0; i < pairs.n; ++i) pairs.at(i, i) = 0;
  out.collab_intra = SameDeviceFraction(pairs, p);
  out.has_next_layer = t.affinity.n > 0;
  if (out.has_next_layer) {
    out.affinity_concentration = trace::AffinityConcentration(t.affinity);
    out.affinity_same_device = SameDeviceFraction(t.affinity, p);
  }
  return out;
}

void AddToMean(const LayerStats& s, double w, LayerStats* mean) {
  mean->num_tokens += w * s.num_tokens;
  mean->ct_mean += w * s.ct_mean;
  mean->rows_classical += w * s.rows_classical;
  mean->rows_dedup += w * s.rows_dedup;
  mean->load_imbalance += w * s.load_imbalance;
  mean->load_cv += w * s.load_cv;
  mean->device_imbalance += w * s.device_imbalance;
  mean->collab_intra += w * s.collab_intra;
}

// Affinity exists for all layers but the last: its mean is over those.
void AddAffinityMean(const std::vector<LayerStats>& layers, LayerStats* mean) {
  double n = 0;
  for (const LayerStats& s : layers) n += s.has_next_layer;
  if (n == 0) return;
  mean->has_next_layer = true;
  for (const LayerStats& s : layers) {
    if (!s.has_next_layer) continue;
    mean->affinity_concentration += s.affinity_concentration / n;
    mean->affinity_same_device += s.affinity_same_device / n;
  }
}

// The placement-free stats of `layer` (empty ones for a layer without tokens).
trace::LayerRoutingStats TraceStatsOf(const trace::TraceStats& stats, uint32_t layer) {
  for (const trace::LayerRoutingStats& l : stats.layers)
    if (l.layer == layer) return l;
  trace::LayerRoutingStats empty;
  empty.layer = layer;
  empty.load.assign(stats.num_experts, 0);
  empty.coact.Resize(stats.num_experts);
  return empty;
}

}  // namespace

Result<RoutingStats> ComputeRoutingStats(const std::string& path, uint32_t num_ranks,
                                         const std::string& placement_name) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(path));
  EPSIM_ASSIGN_OR_RETURN(
      placement::Placement placement,
      placement::MakePlacement(placement_name, reader->header().num_experts(), num_ranks));
  return ComputeRoutingStats(path, num_ranks, placement::LayerPlacements(std::move(placement)));
}

Result<RoutingStats> ComputeRoutingStats(const std::string& path, uint32_t num_ranks,
                                         const placement::LayerPlacements& placements) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(path));
  const proto::TraceHeader& header = reader->header();
  if (placements.num_ranks() != num_ranks || placements.num_experts() != header.num_experts())
    return Status::BadInput(fmt::format(
        "{}: placement {} is for {} experts on {} ranks, the trace has {} experts and ep is {}",
        path, placements.name(), placements.num_experts(), placements.num_ranks(),
        header.num_experts(), num_ranks));
  std::map<uint32_t, dispatch::TokenSplit> splits;
  std::map<uint32_t, LayerSums> sums;
  std::map<uint32_t, std::unique_ptr<TokenCounter>> counters;
  for (const proto::LayerInfo& info : header.layers()) {
    splits.emplace(info.layer(), dispatch::TokenSplit(info.num_tokens(), num_ranks));
    counters.emplace(info.layer(), std::make_unique<TokenCounter>(placements.ForLayer(info.layer())));
    LayerSums& s = sums[info.layer()];
    s.detail.traffic_classical.assign(size_t{num_ranks} * num_ranks, 0);
    s.detail.traffic_dedup.assign(size_t{num_ranks} * num_ranks, 0);
  }
  proto::LayerRecord record;
  const uint32_t c = header.num_candidates(), k = header.num_topk();
  while (true) {
    EPSIM_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    const dispatch::TokenSplit& split = splits.at(record.layer());
    TokenCounter& counter = *counters.at(record.layer());
    LayerSums& s = sums[record.layer()];
    for (int t = 0; t < record.token_ids_size(); ++t, ++s.tokens_seen)
      counter.Count({{record.topk_idx().data() + size_t(t) * c, c},
                     {record.topk_weights().data() + size_t(t) * c, c},
                     k},
                    split.RankOf(s.tokens_seen), &s);
  }
  RoutingStats out;
  EPSIM_ASSIGN_OR_RETURN(out.trace, trace::ComputeTraceStats(path));
  out.placement = placements.name();
  out.num_ranks = num_ranks;
  out.experts_per_device = placement::DescribeExpertsPerDevice(placements);
  const double w = 1.0 / static_cast<double>(sums.size());
  for (const auto& [layer, s] : sums) {
    out.details.emplace_back();
    out.layers.push_back(Finish(s, TraceStatsOf(out.trace, layer), placements.ForLayer(layer),
                                &out.details.back()));
    AddToMean(out.layers.back(), w, &out.mean);
  }
  AddAffinityMean(out.layers, &out.mean);
  return out;
}

}  // namespace epsim::plan
