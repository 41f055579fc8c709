#include "sim/plan/routing_stats.h"

#include <map>

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
};

uint64_t RemoteRows(const dispatch::RoutedToken& routed, uint32_t src) {
  uint64_t n = 0;
  for (const dispatch::DispatchRow& row : routed.rows) n += row.rank != src;
  return n;
}

// Adds one token held by `src` to the sums, routing it with the strategies
// themselves: a dedup row per distinct device, a classical row per expert.
class TokenCounter {
 public:
  explicit TokenCounter(const placement::Placement& placement)
      : placement_(placement), classical_(dispatch::MakeClassical()), dedup_(dispatch::MakeDedup()) {}

  void Count(std::span<const uint32_t> topk, uint32_t src, LayerSums* sums) {
    classical_->Route(topk, src, placement_, &routed_);
    sums->rows_classical += RemoteRows(routed_, src);
    dedup_->Route(topk, src, placement_, &routed_);
    sums->devices += routed_.rows.size();
    sums->rows_dedup += RemoteRows(routed_, src);
  }

 private:
  const placement::Placement& placement_;
  std::unique_ptr<dispatch::Strategy> classical_, dedup_;
  dispatch::RoutedToken routed_;
};

LayerStats Finish(uint32_t layer, const LayerSums& s) {
  const double n = static_cast<double>(s.tokens_seen);
  LayerStats out;
  out.layer = layer;
  out.num_tokens = n;
  out.ct_mean = n > 0 ? s.devices / n : 0;
  out.rows_classical = n > 0 ? s.rows_classical / n : 0;
  out.rows_dedup = n > 0 ? s.rows_dedup / n : 0;
  return out;
}

}  // namespace

Result<RoutingStats> ComputeRoutingStats(const std::string& path, uint32_t num_ranks,
                                         const std::string& placement_name) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(path));
  const proto::TraceHeader& header = reader->header();
  EPSIM_ASSIGN_OR_RETURN(placement::Placement placement,
                         placement::MakePlacement(placement_name, header.num_experts(), num_ranks));
  std::map<uint32_t, dispatch::TokenSplit> splits;
  std::map<uint32_t, LayerSums> sums;
  for (const proto::LayerInfo& info : header.layers()) {
    splits.emplace(info.layer(), dispatch::TokenSplit(info.num_tokens(), num_ranks));
    sums[info.layer()];
  }
  proto::LayerRecord record;
  TokenCounter counter(placement);
  const uint32_t c = header.num_candidates(), k = header.num_topk();
  while (true) {
    EPSIM_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    const dispatch::TokenSplit& split = splits.at(record.layer());
    LayerSums& s = sums[record.layer()];
    for (int t = 0; t < record.token_ids_size(); ++t, ++s.tokens_seen)
      counter.Count({record.topk_idx().data() + size_t(t) * c, k}, split.RankOf(s.tokens_seen),
                    &s);
  }
  RoutingStats out;
  out.placement = placement.name();
  out.num_ranks = num_ranks;
  for (const auto& [layer, s] : sums) {
    out.layers.push_back(Finish(layer, s));
    const double w = 1.0 / static_cast<double>(sums.size());
    out.mean.num_tokens += w * out.layers.back().num_tokens;
    out.mean.ct_mean += w * out.layers.back().ct_mean;
    out.mean.rows_classical += w * out.layers.back().rows_classical;
    out.mean.rows_dedup += w * out.layers.back().rows_dedup;
  }
  return out;
}

}  // namespace epsim::plan
