// Classical top-k dispatch: every (token, expert) pair is a row of its own,
// so a token picking two experts on one device is sent there twice.
#include "sim/dispatch/strategy.h"

namespace epsim::dispatch {
namespace {

class Classical : public Strategy {
 public:
  std::string name() const override { return "classical"; }

  void Route(std::span<const uint32_t> topk, uint32_t src_rank,
             const placement::Placement& placement, RoutedToken* out) const override {
    out->Clear();
    out->experts.assign(topk.begin(), topk.end());
    for (uint32_t i = 0; i < topk.size(); ++i)
      out->rows.push_back({placement.RankOf(topk[i]), i, 1});
  }
};

}  // namespace

std::unique_ptr<Strategy> MakeClassical() { return std::make_unique<Classical>(); }

}  // namespace epsim::dispatch
