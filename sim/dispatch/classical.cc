// Classical top-k dispatch: every (token, expert) pair is a row of its own,
// so a token picking two experts on one device is sent there twice.
#include "sim/dispatch/strategy.h"

namespace epsim::dispatch {
namespace {

class Classical : public Strategy {
 public:
  std::string name() const override { return "classical"; }

  void Route(const TokenView& token, uint32_t src_rank, const RouteContext& ctx,
             RoutedToken* out) const override {
    out->Clear();
    const auto topk = token.topk();
    out->experts.assign(topk.begin(), topk.end());
    out->weights.assign(token.scores.begin(), token.scores.begin() + token.num_topk);
    for (uint32_t i = 0; i < topk.size(); ++i) {
      const uint32_t rank = ChooseReplica(ctx.placement, ctx.cluster, topk[i], src_rank, {});
      out->rows.push_back({rank, i, 1, rank});
    }
  }
};

}  // namespace

std::unique_ptr<Strategy> MakeClassical() { return std::make_unique<Classical>(); }

}  // namespace epsim::dispatch
