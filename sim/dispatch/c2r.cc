// Collaboration-constrained routing (C2R): a token keeps its top-1 expert
// e1 and takes its other k - 1 experts among e1's first T partners (experts
// by descending co-activation with e1 in a profiling trace; profile.h).
// Small T concentrates tokens on expert groups, which a collaboration-aware
// placement then keeps on one device.
//
// Choices, where the paper leaves room or traces lack data:
// - A partner's score is read from the token's candidate list. A partner
//   not listed has an unknown score: known partners come first, by
//   descending score (ties in the router's candidate order, so T = E - 1
//   gives back the router's top-k exactly), then unknown ones by partner
//   order (the profile's co-activation order is the best guess left).
// - Weights are the chosen experts' original scores, without
//   renormalisation (the Qwen variant; LLaMA-MoE's softmax over the kept
//   logits is not modelled). An unlisted partner gets the token's lowest
//   listed score: the list holds the router's best scores, so that is an
//   upper bound of the unknown one.
// - T >= k - 1 is required (CheckStrategyFits); Route itself takes at most
//   T partners, so a smaller T only yields fewer than k experts.
// Dispatch is deduplicated (GroupByDevice), e1 first.
#include <algorithm>
#include <string>

#include "sim/base/check.h"
#include "sim/dispatch/strategies.h"

namespace epsim::dispatch {
namespace {

class C2R : public Strategy {
 public:
  explicit C2R(uint32_t num_partners) : num_partners_(num_partners) {}

  std::string name() const override { return "c2r:" + std::to_string(num_partners_); }
  bool changes_routing() const override { return true; }
  bool needs_profile() const override { return true; }
  bool needs_scores() const override { return true; }
  uint32_t num_partners() const { return num_partners_; }

  void Route(const TokenView& token, uint32_t src, const RouteContext& ctx,
             RoutedToken* out) const override {
    EPSIM_CHECK(ctx.profile != nullptr);
    EPSIM_CHECK(ctx.profile->partners.size() == ctx.placement.num_experts());
    const uint32_t e1 = token.candidates[0];
    const std::vector<uint32_t>& all = ctx.profile->partners[e1];
    const size_t t = std::min<size_t>(num_partners_, all.size());
    std::vector<Pick> picks;
    for (size_t i = 0; i < t; ++i) picks.push_back(Lookup(token, all[i], i));
    std::sort(picks.begin(), picks.end(), [](const Pick& a, const Pick& b) {
      if (a.known != b.known) return a.known;
      if (a.score != b.score) return a.score > b.score;
      return a.order < b.order;
    });
    const size_t extra = std::min<size_t>(token.num_topk - 1, picks.size());
    std::vector<uint32_t> experts = {e1};
    std::vector<float> weights = {token.scores[0]};
    const float lowest = token.scores.back();
    for (size_t i = 0; i < extra; ++i) {
      experts.push_back(picks[i].expert);
      weights.push_back(picks[i].known ? picks[i].score : lowest);
    }
    GroupByDevice(experts, weights, src, ctx, out);
  }

 private:
  // A partner with its score if the token lists it; `order` breaks ties:
  // the candidate position when known, else the partner position.
  struct Pick {
    uint32_t expert;
    bool known;
    float score;
    size_t order;
  };

  static Pick Lookup(const TokenView& token, uint32_t expert, size_t partner_pos) {
    const auto it = std::find(token.candidates.begin(), token.candidates.end(), expert);
    if (it == token.candidates.end()) return {expert, false, 0.0f, partner_pos};
    const size_t pos = it - token.candidates.begin();
    return {expert, true, token.scores[pos], pos};
  }

  const uint32_t num_partners_;
};

}  // namespace

std::unique_ptr<Strategy> MakeC2R(uint32_t num_partners) {
  return std::make_unique<C2R>(num_partners);
}

Status CheckStrategyFits(const Strategy& strategy, uint32_t num_topk) {
  const auto* c2r = dynamic_cast<const C2R*>(&strategy);
  if (c2r != nullptr && num_topk > 0 && c2r->num_partners() < num_topk - 1)
    return Status::Usage(strategy.name() + ": T = " + std::to_string(c2r->num_partners()) +
                         " partners cannot fill top-" + std::to_string(num_topk) +
                         " (C2R needs T >= k - 1 = " + std::to_string(num_topk - 1) + ")");
  return Status::Ok();
}

}  // namespace epsim::dispatch
