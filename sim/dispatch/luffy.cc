// Luffy (reference/dispatch.md, "Sequence migration and token
// condensation"). Per token it routes as classical dispatch does, one row
// per (token, expert): Luffy is built on DeepSpeed-MoE's top-k all-to-all,
// and a condensed token reuses its cluster head's output of one expert,
// which a row summed over several experts (dedup's stage-1 reduce) would
// not give back. What makes it Luffy is decided per layer, over all tokens
// at once, by the planner (plan/layer_traffic.cc): which rows condensation
// drops, and to which device each sequence moves in the combine.
#include <fmt/format.h>

#include "sim/dispatch/strategies.h"

namespace epsim::dispatch {
namespace {

class Luffy : public Strategy {
 public:
  explicit Luffy(const LuffyParams& p) : params_(p) {}

  std::string name() const override {
    std::string n = fmt::format("luffy:{}:{}", params_.candidates, params_.cluster_tokens);
    if (params_.slack_percent != LuffyParams().slack_percent)
      n += fmt::format(":{}", params_.slack_percent);
    return n;
  }
  const LuffyParams* luffy() const override { return &params_; }

  std::string NoEffectReason(const ClusterMap& cluster, uint32_t) const override {
    if (cluster.host_of_rank.size() > 1) return "";
    return name() + ": one rank: no sequence can move and no row leaves the device";
  }

  std::string ModelNote() const override {
    if (params_.cluster_tokens == 1)
      return fmt::format("{}: no token condensation (clusters of 1 token); sequences migrate "
                         "among their {} cheapest devices, capacity +{}%",
                         name(), params_.candidates, params_.slack_percent);
    return fmt::format(
        "{}: token similarity is modelled, not measured (routing traces carry no hidden "
        "states): every {} consecutive tokens of a sequence on one device are taken as similar "
        "above the threshold, and only the first of them routed to an expert is sent to it; "
        "sequences migrate among their {} cheapest devices, capacity +{}%",
        name(), params_.cluster_tokens, params_.candidates, params_.slack_percent);
  }

  void Route(const TokenView& token, uint32_t src_rank, const RouteContext& ctx,
             RoutedToken* out) const override {
    classical_->Route(token, src_rank, ctx, out);
  }

 private:
  LuffyParams params_;
  std::unique_ptr<Strategy> classical_ = MakeClassical();
};

}  // namespace

std::unique_ptr<Strategy> MakeLuffy(const LuffyParams& params) {
  return std::make_unique<Luffy>(params);
}

}  // namespace epsim::dispatch
