#include "sim/placement/algorithms.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "sim/base/parallel.h"
#include "sim/placement/balanced_partition.h"
#include "sim/placement/device_count_search.h"
#include "sim/placement/replicate.h"
#include "sim/placement/topology_groups.h"

namespace epsim::placement {
namespace {

// What every layer of one ComputePlacement call shares.
struct Context {
  const PlacementSpec& spec;
  uint32_t num_experts = 0;
  std::optional<RankGroup> groups;          // with a topology
  std::vector<uint32_t> swap_class;         // [rank]: C_T search swaps within a class
  std::vector<uint32_t> host_of_rank;       // [rank]: host, densely numbered
};

// Ranks of one innermost group (whose children are single ranks) share a class.
void InnermostClasses(const RankGroup& g, std::vector<uint32_t>* swap_class, uint32_t* next) {
  if (g.children.empty()) return;
  const bool innermost = std::all_of(g.children.begin(), g.children.end(),
                                     [](const RankGroup& c) { return c.children.empty(); });
  if (!innermost) {
    for (const RankGroup& c : g.children) InnermostClasses(c, swap_class, next);
    return;
  }
  for (uint32_t r : g.ranks) (*swap_class)[r] = *next;
  ++*next;
}

std::map<uint32_t, LayerTokens> TokensByLayer(const trace::Trace& trace) {
  std::map<uint32_t, LayerTokens> out;
  for (const trace::LayerRouting& l : trace.layers) {
    LayerTokens& t = out[l.layer];
    t.num_topk = l.num_topk;
    for (size_t i = 0; i < l.num_tokens(); ++i)
      t.picks.insert(t.picks.end(), l.topk(i), l.topk(i) + l.num_topk);
  }
  return out;
}

std::vector<uint32_t> RankSizes(const Context& ctx) {
  return BalancedExpertCounts(ctx.num_experts, ctx.spec.num_ranks);
}

// Splits `experts` among the children of `g` (each child the sum of its
// ranks' RankSizes) and recurses.
void SplitHierarchically(const Context& ctx, const trace::CountMatrix& coact, const RankGroup& g,
                         const std::vector<uint32_t>& experts, std::vector<uint32_t>* rank_of) {
  if (g.children.empty()) {
    for (uint32_t e : experts) (*rank_of)[e] = g.ranks[0];
    return;
  }
  const std::vector<uint32_t> per_rank = RankSizes(ctx);
  std::vector<uint32_t> sizes;
  for (const RankGroup& c : g.children) {
    sizes.push_back(0);
    for (uint32_t r : c.ranks) sizes.back() += per_rank[r];
  }
  const Assignment part = PartitionGraph(GraphFromCoact(coact, experts), sizes, ctx.spec.seed,
                                         ctx.spec.random_starts);
  for (uint32_t c = 0; c < g.children.size(); ++c) {
    std::vector<uint32_t> mine;
    for (uint32_t v = 0; v < experts.size(); ++v)
      if (part[v] == c) mine.push_back(experts[v]);
    SplitHierarchically(ctx, coact, g.children[c], mine, rank_of);
  }
}

// `partition` for one layer.
std::vector<uint32_t> PartitionLayer(const Context& ctx, const trace::LayerRoutingStats& layer,
                                     const LayerTokens* tokens) {
  std::vector<uint32_t> all(ctx.num_experts);
  std::iota(all.begin(), all.end(), 0);
  std::vector<std::vector<uint32_t>> starts(1, std::vector<uint32_t>(ctx.num_experts));
  const uint64_t seed = ctx.spec.seed * 1000003 + layer.layer;
  if (ctx.groups) {
    SplitHierarchically(ctx, layer.coact, *ctx.groups, all, &starts[0]);
  } else {
    const CollabGraph g = GraphFromCoact(layer.coact, all);
    starts[0] = PartitionGraph(g, RankSizes(ctx), seed, ctx.spec.random_starts);
    starts.push_back(OccultGreedy(g, RankSizes(ctx)));
  }
  if (tokens == nullptr || tokens->num_tokens() == 0) return starts[0];
  std::vector<uint32_t> best;
  double best_ct = 0;
  for (std::vector<uint32_t>& s : starts) {
    SearchDevices(*tokens, ctx.spec.num_ranks, ctx.swap_class, seed, ctx.spec.search_kicks, &s);
    const double ct = MeanDevices(*tokens, s, ctx.spec.num_ranks);
    if (best.empty() || ct < best_ct) best = s, best_ct = ct;
  }
  return best;
}

Result<Placement> LayerPlacement(const Context& ctx, const trace::LayerRoutingStats& layer,
                                 const LayerTokens* tokens) {
  const std::string& name = ctx.spec.algorithm;
  if (name == "occult") {
    std::vector<uint32_t> all(ctx.num_experts);
    std::iota(all.begin(), all.end(), 0);
    return Placement::Make(name, ctx.spec.num_ranks,
                           OccultGreedy(GraphFromCoact(layer.coact, all), RankSizes(ctx)));
  }
  std::vector<uint32_t> primary;
  if (name == "replicate" && ctx.spec.partition != nullptr) {
    const Placement& done = ctx.spec.partition->ForLayer(layer.layer);
    for (uint32_t e = 0; e < ctx.num_experts; ++e) primary.push_back(done.RankOf(e));
  } else {
    primary = PartitionLayer(ctx, layer, tokens);
  }
  if (name == "partition") return Placement::Make(name, ctx.spec.num_ranks, std::move(primary));
  return Placement::MakeReplicated(
      name, ctx.spec.num_ranks,
      Replicate(primary, layer.load, ctx.host_of_rank, ctx.spec.replica_slots));
}

Status CheckSpec(const PlacementSpec& spec, const trace::TraceStats& profile) {
  const auto& names = AlgorithmNames();
  if (std::find(names.begin(), names.end(), spec.algorithm) == names.end())
    return Status::Usage(fmt::format("unknown placement algorithm '{}' (known: {})",
                                     spec.algorithm, fmt::join(names, ", ")));
  EPSIM_RETURN_IF_ERROR(
      CheckExpertsFitRanks(spec.algorithm, profile.num_experts, spec.num_ranks));
  if ((spec.algorithm == "replicate") != (spec.replica_slots > 0))
    return Status::Usage("replica slots (> 0) go with the replicate algorithm, and only with it");
  if (profile.layers.empty() && !IsTraceFree(spec.algorithm))
    return Status::BadInput(spec.algorithm + " placement: the profile has no layers");
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& AlgorithmNames() {
  static const std::vector<std::string> names = {"contiguous", "round-robin", "occult",
                                                 "partition", "replicate"};
  return names;
}

bool IsTraceFree(const std::string& algorithm) {
  return algorithm == "contiguous" || algorithm == "round-robin";
}

Result<LayerPlacements> ComputePlacement(const PlacementSpec& spec,
                                         const trace::TraceStats& profile,
                                         const trace::Trace* tokens) {
  EPSIM_RETURN_IF_ERROR(CheckSpec(spec, profile));
  if (IsTraceFree(spec.algorithm)) {
    EPSIM_ASSIGN_OR_RETURN(Placement p,
                           MakePlacement(spec.algorithm, profile.num_experts, spec.num_ranks));
    return LayerPlacements(std::move(p));
  }
  Context ctx{spec, profile.num_experts, std::nullopt, std::vector<uint32_t>(spec.num_ranks, 0),
              HostOfRank(spec.topology, spec.num_ranks)};
  if (spec.topology != nullptr && spec.algorithm != "occult") {
    EPSIM_ASSIGN_OR_RETURN(ctx.groups, RankHierarchy(*spec.topology, spec.num_ranks));
    uint32_t next = 0;
    InnermostClasses(*ctx.groups, &ctx.swap_class, &next);
  }
  const std::map<uint32_t, LayerTokens> by_layer =
      tokens != nullptr ? TokensByLayer(*tokens) : std::map<uint32_t, LayerTokens>{};
  // Layers are independent (each has its own seed): they run on the cores,
  // and join in layer order, so the result is the same on any number.
  std::vector<std::optional<Result<Placement>>> placed(profile.layers.size());
  ParallelFor(profile.layers.size(), [&](size_t i) {
    const trace::LayerRoutingStats& layer = profile.layers[i];
    auto it = by_layer.find(layer.layer);
    placed[i].emplace(LayerPlacement(ctx, layer, it == by_layer.end() ? nullptr : &it->second));
  });
  std::optional<LayerPlacements> out;
  for (size_t i = 0; i < placed.size(); ++i) {
    EPSIM_ASSIGN_OR_RETURN(Placement p, std::move(*placed[i]));
    if (!out) out.emplace(p);
    EPSIM_RETURN_IF_ERROR(out->Set(profile.layers[i].layer, std::move(p)));
  }
  return std::move(*out);
}

}  // namespace epsim::placement
