// Deduplicated dispatch (Occult): one row per destination device. The
// destination feeds the row to each of its selected experts and sums their
// weighted outputs (stage-1 reduce); the source sums over devices (stage-2).
#include <algorithm>

#include "sim/dispatch/strategy.h"

namespace epsim::dispatch {
namespace {

class Dedup : public Strategy {
 public:
  std::string name() const override { return "dedup"; }

  void Route(std::span<const uint32_t> topk, uint32_t src_rank,
             const placement::Placement& placement, RoutedToken* out) const override {
    out->Clear();
    out->experts.assign(topk.begin(), topk.end());
    // Group experts by device, devices in order of first appearance (router
    // order), experts keeping router order inside a device. k is small (<= 16
    // in every published model), so the quadratic grouping is the fast one.
    std::stable_sort(out->experts.begin(), out->experts.end(),
                     [&](uint32_t a, uint32_t b) {
                       return FirstIndex(topk, placement, placement.RankOf(a)) <
                              FirstIndex(topk, placement, placement.RankOf(b));
                     });
    for (uint32_t i = 0; i < out->experts.size(); ++i) {
      const uint32_t rank = placement.RankOf(out->experts[i]);
      if (!out->rows.empty() && out->rows.back().rank == rank) {
        ++out->rows.back().count;
      } else {
        out->rows.push_back({rank, i, 1});
      }
    }
  }

 private:
  static size_t FirstIndex(std::span<const uint32_t> topk, const placement::Placement& p,
                           uint32_t rank) {
    for (size_t i = 0; i < topk.size(); ++i)
      if (p.RankOf(topk[i]) == rank) return i;
    return topk.size();
  }
};

}  // namespace

std::unique_ptr<Strategy> MakeDedup() { return std::make_unique<Dedup>(); }

}  // namespace epsim::dispatch
