// Deduplicated dispatch (Occult): one row per destination device. The
// destination feeds the row to each of its selected experts and sums their
// weighted outputs (stage-1 reduce); the source sums over devices (stage-2).
#include "sim/dispatch/strategy.h"

namespace epsim::dispatch {
namespace {

class Dedup : public Strategy {
 public:
  std::string name() const override { return "dedup"; }

  void Route(const TokenView& token, uint32_t src_rank, const RouteContext& ctx,
             RoutedToken* out) const override {
    GroupByDevice(token.topk(), token.scores.first(token.num_topk), src_rank, ctx, out);
  }
};

}  // namespace

std::unique_ptr<Strategy> MakeDedup() { return std::make_unique<Dedup>(); }

}  // namespace epsim::dispatch
