// EvaluatePlacement and DescribePlacement (algorithms.h): the objective
// figures `epsim place` prints and writes into the file's description.
#include <map>

#include <fmt/format.h>

#include "sim/placement/algorithms.h"
#include "sim/placement/device_count_search.h"
#include "sim/placement/replicate.h"
#include "sim/placement/topology_groups.h"

namespace epsim::placement {
namespace {

double CollabIntra(const trace::CountMatrix& coact, const Placement& p) {
  double same = 0, total = 0;
  for (uint32_t i = 0; i < coact.n; ++i)
    for (uint32_t j = 0; j < coact.n; ++j) {
      if (i == j) continue;
      total += coact.at(i, j);
      if (p.RankOf(i) == p.RankOf(j)) same += coact.at(i, j);
    }
  return total > 0 ? same / total : 0;
}

double DeviceImbalance(const trace::LayerRoutingStats& layer, const Placement& p,
                       const std::vector<uint32_t>& host_of_rank) {
  ReplicaRanks ranks(p.num_experts());
  for (uint32_t e = 0; e < p.num_experts(); ++e) ranks[e] = p.RanksOf(e);
  return trace::Imbalance(ExpectedRankLoad(ranks, layer.load, host_of_rank));
}

LayerTokens TokensOf(const trace::Trace* trace, uint32_t layer) {
  LayerTokens out;
  if (trace == nullptr) return out;
  for (const trace::LayerRouting& l : trace->layers) {
    if (l.layer != layer) continue;
    out.num_topk = l.num_topk;
    for (size_t t = 0; t < l.num_tokens(); ++t)
      out.picks.insert(out.picks.end(), l.topk(t), l.topk(t) + l.num_topk);
  }
  return out;
}

std::vector<uint32_t> Primaries(const Placement& p) {
  std::vector<uint32_t> out(p.num_experts());
  for (uint32_t e = 0; e < p.num_experts(); ++e) out[e] = p.RankOf(e);
  return out;
}

}  // namespace

std::vector<PlacementQuality> EvaluatePlacement(const LayerPlacements& placements,
                                                const trace::TraceStats& profile,
                                                const trace::Trace* tokens,
                                                const proto::Topology* topology) {
  const std::vector<uint32_t> host_of_rank = HostOfRank(topology, placements.num_ranks());
  std::vector<PlacementQuality> out;
  PlacementQuality mean;
  const double w = profile.layers.empty() ? 0 : 1.0 / profile.layers.size();
  for (const trace::LayerRoutingStats& layer : profile.layers) {
    const Placement& p = placements.ForLayer(layer.layer);
    PlacementQuality q{layer.layer, CollabIntra(layer.coact, p),
                       MeanDevices(TokensOf(tokens, layer.layer), Primaries(p), p.num_ranks()),
                       DeviceImbalance(layer, p, host_of_rank)};
    mean.collab_intra += w * q.collab_intra;
    mean.ct_mean += w * q.ct_mean;
    mean.device_imbalance += w * q.device_imbalance;
    out.push_back(q);
  }
  out.push_back(mean);
  return out;
}

std::string DescribePlacement(const PlacementSpec& spec, const PlacementQuality& mean) {
  std::string out = fmt::format("{} placement on {} ranks, seed {}", spec.algorithm,
                                spec.num_ranks, spec.seed);
  if (spec.algorithm == "partition" || spec.algorithm == "replicate")
    out += fmt::format("; exact-balance Kernighan-Lin on co-activation from Occult's greedy, "
                       "in-order and {} random starts, then swap search on mean C_T "
                       "({} kicks) when the profile's tokens are given",
                       spec.random_starts, spec.search_kicks);
  if (spec.topology != nullptr && spec.algorithm != "occult") {
    auto groups = RankHierarchy(*spec.topology, spec.num_ranks);
    if (groups.ok())
      out += fmt::format("; split along topology {} as {}", spec.topology->name(),
                         Describe(*groups));
  }
  if (spec.algorithm == "replicate")
    out += fmt::format("; memory budget {} extra expert copies per rank", spec.replica_slots);
  out += fmt::format("; profile means: collab_intra {:.4f}, ct_mean {:.4f} (primary copies), "
                     "expected device_imbalance {:.4f}",
                     mean.collab_intra, mean.ct_mean, mean.device_imbalance);
  return out;
}

}  // namespace epsim::placement
