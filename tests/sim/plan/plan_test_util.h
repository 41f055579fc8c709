// Hand-built traces for the planner tests.
#ifndef EPSIM_TESTS_SIM_PLAN_PLAN_TEST_UTIL_H_
#define EPSIM_TESTS_SIM_PLAN_PLAN_TEST_UTIL_H_

#include <vector>

#include "sim/trace/trace.h"

namespace epsim::plan::testing {

// 4 experts, top-2, 4 tokens in one sequence; with 2 ranks (contiguous:
// experts 0,1 on rank 0, experts 2,3 on rank 1; tokens 0,1 on rank 0 and
// 2,3 on rank 1):
//   token 0 [0,1] src 0: all local             C_T 1, classical 0, dedup 0
//   token 1 [0,2] src 0: one remote expert     C_T 2, classical 1, dedup 1
//   token 2 [2,3] src 1: all local             C_T 1, classical 0, dedup 0
//   token 3 [0,1] src 1: two experts on rank 0 C_T 1, classical 2, dedup 1
inline trace::LayerRouting HandLayer(uint32_t layer) {
  trace::LayerRouting l;
  l.layer = layer;
  l.num_topk = l.num_candidates = 2;
  const std::vector<std::vector<uint32_t>> topk = {{0, 1}, {0, 2}, {2, 3}, {0, 1}};
  const float w[2] = {0.75f, 0.25f};
  for (uint64_t t = 0; t < topk.size(); ++t) l.Append(t, 0, topk[t].data(), w);
  return l;
}

inline trace::Trace HandTrace(std::vector<uint32_t> layers) {
  trace::Trace t;
  t.header.set_version(1);
  t.header.set_model("hand");
  t.header.set_num_experts(4);
  t.header.set_num_topk(2);
  t.header.set_num_candidates(2);
  t.header.set_num_layers(static_cast<uint32_t>(layers.size()));
  for (uint32_t l : layers) {
    auto* info = t.header.add_layers();
    info->set_layer(l);
    info->set_num_tokens(4);
    t.layers.push_back(HandLayer(l));
  }
  return t;
}

}  // namespace epsim::plan::testing

#endif  // EPSIM_TESTS_SIM_PLAN_PLAN_TEST_UTIL_H_
