// Dispatch strategies: how a token's hidden state reaches the devices of its
// selected experts. Each strategy is implemented once, here, and used by the
// planner (simulation), the statistics and the hardware harness alike.
//
// Vocabulary (DeepEP's): a *row* is one copy of a token's hidden state sent
// to one device. Combine mirrors dispatch: every dispatch row returns as one
// combine row from the same device.
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

// One row of a routed token: the device it goes to and the selected experts
// it feeds there, experts[first, first + count) of RoutedToken::experts.
// A row with count > 1 is reduced on the destination before it returns
// (Occult's stage-1 reduce).
struct DispatchRow {
  uint32_t rank = 0;
  uint32_t first = 0;
  uint32_t count = 0;
};

// The routing decision for one token. `experts` are the experts that will
// process it (the trace's top-k unless the strategy changes routing), grouped
// by row. Rows whose rank equals the token's source rank stay local and cross
// no link.
struct RoutedToken {
  std::vector<uint32_t> experts;
  std::vector<DispatchRow> rows;
  void Clear() {
    experts.clear();
    rows.clear();
  }
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // The name as given on the command line, e.g. "dedup".
  virtual std::string name() const = 0;
  // Routes one token held by `src_rank` whose router selected `topk` (router
  // order). Overwrites `out`.
  virtual void Route(std::span<const uint32_t> topk, uint32_t src_rank,
                     const placement::Placement& placement, RoutedToken* out) const = 0;
};

// One row per (token, selected expert); Megatron / Tutel / DeepSpeed-MoE.
std::unique_ptr<Strategy> MakeClassical();
// One row per (token, destination device); Occult's deduplicated dispatch.
std::unique_ptr<Strategy> MakeDedup();

// Parses one strategy name. Unknown names are usage errors listing the known.
Result<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name);
// Parses a comma-separated list ("classical,dedup"); empty items are errors.
Result<std::vector<std::unique_ptr<Strategy>>> MakeStrategies(const std::string& list);

}  // namespace epsim::dispatch

#endif  // EPSIM_SIM_DISPATCH_STRATEGY_H_
