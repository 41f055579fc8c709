// Dispatch strategies: how a token's hidden state reaches the devices of its
// selected experts, and, for some strategies, which experts it uses at all.
// Each strategy is implemented once, here, and used by the planner
// (simulation), the statistics and the hardware harness alike.
//
// Vocabulary (DeepEP's): a *row* is one copy of a token's hidden state sent
// to one device. Combine mirrors dispatch: every dispatch row returns as one
// combine row from the same device, over the same path reversed.
#ifndef EPSIM_SIM_DISPATCH_STRATEGY_H_
#define EPSIM_SIM_DISPATCH_STRATEGY_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/placement/placement.h"

namespace epsim::dispatch {

// One token as its router saw it: `candidates` are expert ids by descending
// score, the first num_topk of them selected; `scores` their gate scores.
// Traces may carry more candidates than num_topk (pruning needs them).
struct TokenView {
  std::span<const uint32_t> candidates;
  std::span<const float> scores;
  uint32_t num_topk = 0;

  std::span<const uint32_t> topk() const { return candidates.first(num_topk); }
};

// Which machine (host) each rank sits in; one host for a single box.
// (DeepSeek says "node" for a machine, as in node-limited routing.)
struct ClusterMap {
  std::vector<uint32_t> host_of_rank;  // [rank]
  uint32_t num_hosts = 1;

  static ClusterMap SingleHost(uint32_t num_ranks);
  uint32_t HostOf(uint32_t rank) const { return host_of_rank[rank]; }
};

// What routing-changing strategies learn from a profiling trace, per layer.
struct LayerProfile {
  // C2R: for every expert, its partners by descending co-activation count
  // (itself excluded).
  std::vector<std::vector<uint32_t>> partners;
  // Pruning by similarity: E x E expert similarity, row-major.
  std::vector<float> similarity;
};

// Everything a strategy may consult to route one token of a layer.
struct RouteContext {
  const placement::Placement& placement;  // of this layer
  const ClusterMap& cluster;
  const LayerProfile* profile = nullptr;  // null when the strategy needs none
};

// One row of a routed token: the device it goes to and the experts it feeds
// there, experts[first, first + count) of RoutedToken::experts. A row with
// count > 1 is reduced on the destination before it returns (Occult's
// stage-1 reduce). `relay` is the rank that receives the copy sent over the
// network and forwards it inside its node (hierarchical dispatch); for every
// other strategy relay == rank.
struct DispatchRow {
  uint32_t rank = 0;
  uint32_t first = 0;
  uint32_t count = 0;
  uint32_t relay = 0;
};

// The routing decision for one token. `experts` are the experts that will
// process it, grouped by row, with `weights` their gate weights; they are
// the trace's top-k unless the strategy changes routing. Rows whose rank is
// the token's source rank stay local and cross no link.
struct RoutedToken {
  std::vector<uint32_t> experts;
  std::vector<float> weights;
  std::vector<DispatchRow> rows;

  void Clear() {
    experts.clear();
    weights.clear();
    rows.clear();
  }
};

struct LuffyParams;  // strategies.h

class Strategy {
 public:
  virtual ~Strategy() = default;
  // The name as given on the command line, e.g. "dedup" or "pruned:2:score".
  virtual std::string name() const = 0;
  // True when the experts used can differ from the router's top-k (the
  // strategy changes the model, and outputs report by how much).
  virtual bool changes_routing() const { return false; }
  // True when rows may travel through a relay (two-stage transfers).
  virtual bool hierarchical() const { return false; }
  // True when Route needs RouteContext::profile.
  virtual bool needs_profile() const { return false; }
  // True when Route ranks experts by their router scores (a trace without
  // scores, TraceHeader.scores_absent, cannot be routed by it).
  virtual bool needs_scores() const { return false; }
  // Why this strategy changes nothing on `cluster` for top-`num_topk`
  // routing (it then routes every token exactly as dedup does), as a note
  // for outputs; "" when it may change something. node-limited:M with M >=
  // the nodes, hierarchical on one node, pruned:N with N >= min(ranks, k).
  virtual std::string NoEffectReason(const ClusterMap& cluster, uint32_t num_topk) const {
    return "";
  }
  // A line for outputs on what the strategy models rather than takes from
  // the trace; "" for most.
  virtual std::string ModelNote() const { return ""; }
  // Luffy's parameters when this is Luffy (the planner then places whole
  // sequences, plan/layer_traffic.h); null for every other strategy.
  virtual const LuffyParams* luffy() const { return nullptr; }
  // Routes one token held by `src_rank`. Overwrites `out`.
  virtual void Route(const TokenView& token, uint32_t src_rank, const RouteContext& ctx,
                     RoutedToken* out) const = 0;
};

// One row per (token, selected expert); Megatron / Tutel / DeepSpeed-MoE.
std::unique_ptr<Strategy> MakeClassical();
// One row per (token, destination device); Occult's deduplicated dispatch.
std::unique_ptr<Strategy> MakeDedup();

// Parses one strategy spec. Unknown names or bad parameters are usage errors
// listing the known forms.
Result<std::unique_ptr<Strategy>> MakeStrategy(const std::string& spec);
// Parses a comma-separated list ("classical,dedup"); empty items are errors.
// A strategy listed again (by its name(): "pruned:02:score" is
// "pruned:2:score") is kept once, where it first appears; `repeated`, when
// given, receives the name of each one dropped, once.
Result<std::vector<std::unique_ptr<Strategy>>> MakeStrategies(
    const std::string& list, std::vector<std::string>* repeated = nullptr);

// allowed[rank] != 0 for the ranks a token may use; size num_ranks. Used by
// strategies that limit a token to some devices or nodes (pruning,
// node-limited routing): a free replica choice could otherwise land outside
// the set and break the limit the strategy promises.
using RankMask = std::vector<uint8_t>;

// Replica choice shared by the strategies: the copy of `expert` on `src`
// if any; else one on a rank in `preferred` (ranks this token already uses);
// else one on src's node; else the primary. With `allowed`, only copies on
// allowed ranks count (the expert must have one; checked), the last resort
// being the first allowed copy. Deterministic.
uint32_t ChooseReplica(const placement::Placement& p, const ClusterMap& cluster, uint32_t expert,
                       uint32_t src, std::span<const uint32_t> preferred,
                       const RankMask* allowed = nullptr);

// True when `expert` has a copy on an allowed rank.
bool HasAllowedCopy(const placement::Placement& p, const RankMask& allowed, uint32_t expert);

// Sets `out` to the given experts/weights and groups them into one row per
// destination rank (devices in order of first appearance, experts keeping
// their order inside a device), replicas chosen by ChooseReplica (within
// `allowed` when given), relay == rank. Shared by dedup and the strategies
// that change routing and then dispatch deduplicated.
void GroupByDevice(std::span<const uint32_t> experts, std::span<const float> weights,
                   uint32_t src, const RouteContext& ctx, RoutedToken* out,
                   const RankMask* allowed = nullptr);

}  // namespace epsim::dispatch

#endif  // EPSIM_SIM_DISPATCH_STRATEGY_H_
