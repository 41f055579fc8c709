// Synthetic routing traces, for runs without recorded routing.
//
// GenerateUniformTrace: every token's router logits are E independent
// standard normals; the gate scores are their softmax and the selected
// experts the num_topk highest. Every top-k set is then equally likely, the
// "uniformly random routing" of Occult's E[C_T] formula. Only the top k
// logits are drawn (order statistics, see synth.cc), so a token costs O(k).
// Tokens form sequences of tokens_per_sequence in trace order. The random
// stream is std::mt19937_64 (fixed by the C++ standard) with our own
// transforms, so a seed gives the same trace with any standard library.
#ifndef EPSIM_SIM_SYNTH_UNIFORM_H_
#define EPSIM_SIM_SYNTH_UNIFORM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/trace/trace.h"

namespace epsim::synth {

struct UniformTraceOptions {
  std::string model;              // name recorded in the header
  uint32_t num_experts = 64;
  uint32_t num_topk = 8;
  std::vector<uint32_t> layers;   // layer ids to generate
  uint64_t num_tokens = 16384;    // per layer
  uint64_t tokens_per_sequence = 2048;
  uint64_t seed = 1;
};

Result<trace::Trace> GenerateUniformTrace(const UniformTraceOptions& options);

}  // namespace epsim::synth

#endif  // EPSIM_SIM_SYNTH_UNIFORM_H_
