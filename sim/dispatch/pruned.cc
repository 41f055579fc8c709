// Occult's collaboration pruning: every token reaches at most N_d devices.
// This changes the model's routing (Occult fine-tunes with the limit on).
//
// Allowed devices (both schemes): walk the router's top-k by descending
// score; each expert's device is the rank ChooseReplica would pick for it
// (preferring devices already collected, so a replicated expert joins the
// set instead of widening it); stop once N_d distinct devices are held. An
// expert is on an allowed device when any of its copies is, and dispatch
// only uses copies on allowed devices (ChooseReplica with a RankMask), so the limit holds
// with replicas too. When every top-k expert already has an allowed copy,
// routing is unchanged (the top-k are the k best candidates), so N_d >= D
// is standard deduplicated dispatch.
//
// Scheme 1 (score): the new selection is the num_topk best *candidates*
// of the trace (its num_candidates list, not only the top-k) on allowed
// devices, by descending score; weights are their router scores. A trace
// that lists too few candidates to fill k on the allowed devices yields a
// token with fewer than k experts (the missing picks count as changed):
// the scores of unlisted experts are unknown, and inventing them would be
// worse. Keep more candidates in the trace when studying pruning.
//
// Scheme 2 (similarity): each top-k expert without an allowed copy is
// replaced, in router order, by the expert most similar to it (the layer's
// LayerProfile::similarity row; ties to the lower id) that has an allowed
// copy and is not selected already (kept top-k experts and earlier
// substitutes). Occult does not publish how the substitute's weight or the
// device set are chosen: we take Scheme 1's device set and give the
// substitute the replaced expert's weight. When no unselected expert is
// left on the allowed devices the expert is dropped (fewer than k).
//
// Both: rows grouped by device as dedup does, substitutes in the place of
// the expert they replace.
#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "sim/base/check.h"
#include "sim/dispatch/strategies.h"

namespace epsim::dispatch {
namespace {

// The experts a token will use and their gate weights, in dispatch order.
struct Selection {
  std::vector<uint32_t> experts;
  std::vector<float> weights;
};

class Pruned : public Strategy {
 public:
  Pruned(uint32_t max_devices, PruneScheme scheme) : max_devices_(max_devices), scheme_(scheme) {}

  std::string name() const override {
    return "pruned:" + std::to_string(max_devices_) +
           (scheme_ == PruneScheme::kScore ? ":score" : ":similarity");
  }
  bool changes_routing() const override { return true; }
  bool needs_profile() const override { return scheme_ == PruneScheme::kSimilarity; }
  bool needs_scores() const override { return scheme_ == PruneScheme::kScore; }
  // A token's top-k reaches at most min(D, k) devices; the allowed set is
  // then exactly the devices dedup chooses, and the masked replica choice
  // picks the same copies, so the routing is dedup's token for token.
  std::string NoEffectReason(const ClusterMap& cluster, uint32_t num_topk) const override {
    const size_t num_ranks = cluster.host_of_rank.size();
    if (max_devices_ < std::min<size_t>(num_ranks, num_topk)) return "";
    return fmt::format("{}: a top-{} token reaches at most {} of the {} ranks, within the limit "
                       "of {}: nothing is pruned, dispatched as dedup",
                       name(), num_topk, std::min<size_t>(num_ranks, num_topk), num_ranks,
                       max_devices_);
  }

  void Route(const TokenView& token, uint32_t src, const RouteContext& ctx,
             RoutedToken* out) const override {
    const RankMask allowed = AllowedDevices(token, src, ctx);
    Selection sel;
    const auto topk = token.topk();
    const bool unchanged = std::all_of(topk.begin(), topk.end(), [&](uint32_t e) {
      return HasAllowedCopy(ctx.placement, allowed, e);
    });
    if (unchanged) {
      sel.experts.assign(topk.begin(), topk.end());
      sel.weights.assign(token.scores.begin(), token.scores.begin() + token.num_topk);
    } else if (scheme_ == PruneScheme::kScore) {
      SelectByScore(token, ctx, allowed, &sel);
    } else {
      SelectBySimilarity(token, ctx, allowed, &sel);
    }
    GroupByDevice(sel.experts, sel.weights, src, ctx, out, &allowed);
  }

 private:
  RankMask AllowedDevices(const TokenView& token, uint32_t src, const RouteContext& ctx) const {
    std::vector<uint32_t> devices;
    for (uint32_t e : token.topk()) {
      if (devices.size() == max_devices_) break;
      const uint32_t r = ChooseReplica(ctx.placement, ctx.cluster, e, src, devices);
      if (std::find(devices.begin(), devices.end(), r) == devices.end()) devices.push_back(r);
    }
    RankMask allowed(ctx.placement.num_ranks(), 0);
    for (uint32_t r : devices) allowed[r] = 1;
    return allowed;
  }

  static void SelectByScore(const TokenView& token, const RouteContext& ctx,
                            const RankMask& allowed, Selection* sel) {
    for (size_t i = 0; i < token.candidates.size() && sel->experts.size() < token.num_topk; ++i) {
      if (!HasAllowedCopy(ctx.placement, allowed, token.candidates[i])) continue;
      sel->experts.push_back(token.candidates[i]);
      sel->weights.push_back(token.scores[i]);
    }
  }

  static void SelectBySimilarity(const TokenView& token, const RouteContext& ctx,
                                 const RankMask& allowed, Selection* sel) {
    const uint32_t num_experts = ctx.placement.num_experts();
    EPSIM_CHECK(ctx.profile != nullptr);
    EPSIM_CHECK(ctx.profile->similarity.size() == size_t{num_experts} * num_experts);
    const auto topk = token.topk();
    std::vector<uint8_t> selected(num_experts, 0);
    for (uint32_t e : topk) selected[e] = HasAllowedCopy(ctx.placement, allowed, e);
    for (uint32_t i = 0; i < token.num_topk; ++i) {
      uint32_t e = topk[i];
      if (!selected[e]) {
        e = MostSimilarAllowed(e, ctx, allowed, selected);
        if (e == num_experts) continue;  // nothing left to substitute: dropped
        selected[e] = 1;
      }
      sel->experts.push_back(e);
      sel->weights.push_back(token.scores[i]);
    }
  }

  // The unselected expert with an allowed copy most similar to `expert`;
  // num_experts when there is none.
  static uint32_t MostSimilarAllowed(uint32_t expert, const RouteContext& ctx,
                                     const RankMask& allowed,
                                     const std::vector<uint8_t>& selected) {
    const uint32_t num_experts = ctx.placement.num_experts();
    const float* row = ctx.profile->similarity.data() + size_t{expert} * num_experts;
    uint32_t best = num_experts;
    for (uint32_t c = 0; c < num_experts; ++c) {
      if (c == expert || selected[c] || !HasAllowedCopy(ctx.placement, allowed, c)) continue;
      if (best == num_experts || row[c] > row[best]) best = c;
    }
    return best;
  }

  const uint32_t max_devices_;
  const PruneScheme scheme_;
};

}  // namespace

std::unique_ptr<Strategy> MakePruned(uint32_t max_devices, PruneScheme scheme) {
  return std::make_unique<Pruned>(max_devices, scheme);
}

}  // namespace epsim::dispatch
