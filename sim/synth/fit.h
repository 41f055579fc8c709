// Fitting a structured routing model (model.h) to real routing: to a
// recorded trace (`epsim synth --like`), or to aggregate statistics alone
// (`--load` per-expert counts, `--coact` co-activation matrices).
//
// Targets, per layer (any scale where counts are given):
//   load[e]          picks of expert e              -> popularity
//   coact[i][j]      tokens picking both i and j    -> anchor topics
//   affinity[i][j]   picks of i here and j in the   -> successor map and
//                    next layer (same token)           carry_strength
//   sequence_lift    SequenceLift below             -> sequence_strength
// and for the trace: top1_share (TopOneShare below) -> score_sharpness, and
// whether the scores are renormalised over the top k.
//
// Method. Start from closed forms: an expert picked with probability q among
// k draws gets weight -log(1 - q) (the Poisson approximation of
// Plackett-Luce inclusion); a co-activation matrix becomes one anchor topic
// per expert a, drawn as often as a is picked, pulling towards e with the
// weight of the conditional probability coact[a][e] / load[a]; successor[i]
// is the next-layer expert i most often leads to. Then calibrate by
// simulation: generate fit_tokens tokens, measure, and correct popularity and
// topic boosts multiplicatively and the three strengths by damped steps
// towards their targets, `iterations` times. The fit is deterministic.
#ifndef EPSIM_SIM_SYNTH_FIT_H_
#define EPSIM_SIM_SYNTH_FIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/synth/model.h"
#include "sim/trace/trace.h"

namespace epsim::synth {

struct LayerFitTargets {
  uint32_t layer = 0;
  std::vector<double> load;      // [E]; empty: uniform
  std::vector<double> coact;     // [E * E], diagonal ignored; empty: no target
  std::vector<double> affinity;  // [E * E] to the next listed layer; empty: no target
  double sequence_lift = -1;     // < 0: no target
};

struct FitTargets {
  std::string model;
  std::string source;  // for the model's description
  uint32_t num_experts = 0;
  uint32_t num_topk = 0;
  std::vector<LayerFitTargets> layers;  // ascending
  double top1_share = -1;               // < 0: no target
  bool normalize_topk = false;
  uint64_t num_tokens = 0;              // tokens per layer in the source; 0 unknown
  uint64_t tokens_per_sequence = 0;     // 0 unknown
  // What the load files of TargetsFromFiles held, for the output header.
  struct LoadRead {
    std::string format;              // "SGLang CSV" or "JSON"; empty: no load file
    std::vector<std::string> files;  // as given
    std::vector<uint32_t> layers;    // the layers they give, ascending
    double total_picks = 0;          // sum of their loads over those layers
  } load_read;
};

struct FitOptions {
  uint64_t fit_tokens = 16384;  // tokens per layer of each calibration run
  int iterations = 12;
  uint64_t seed = 1;
  // Used where the targets say nothing.
  uint32_t num_groups = 8;
  double group_strength = 1.5;
  double sequence_strength = 0.5;
  double carry_strength = 1.0;
  double score_sharpness = 1.0;
};

Result<RoutingModel> FitRoutingModel(const FitTargets& targets, const FitOptions& options);

// Within-sequence similarity of one layer: the mean overlap |topk(t) ∩
// topk(u)| over pairs of distinct tokens of the same sequence, divided by
// the mean over all pairs of distinct tokens. 1 without sequence structure;
// < 0 when undefined (fewer than two sequences with two tokens).
// `tokens_per_sequence` > 0 overrides the ids: runs of that many tokens.
double SequenceLift(const trace::LayerRouting& layer, uint64_t tokens_per_sequence = 0);

// Mean over tokens of the first score / the sum of the top-k scores.
double TopOneShare(const trace::Trace& trace);

// Targets measured on a trace. `tokens_per_sequence` > 0 groups tokens into
// sequences of that length when the trace's sequence ids are all equal.
Result<FitTargets> TargetsFromTrace(const trace::Trace& trace, uint64_t tokens_per_sequence = 0);

// Aggregate targets from files (sim/synth/FORMATS.md), for the layers `layers`:
//   load files: one JSON file, {"layers": [ids], "load": [[count per expert]
//               per layer]}, or the shared expert_counts.json shape, an
//               object whose member `load_key` is {"layers": [ids],
//               "counts": [[...]]}; or one or more SGLang expert-distribution
//               CSV dumps (sglang_counts.h), summed. The first byte that is
//               not whitespace tells them apart: '{' is JSON.
//   coact file: {"layers": [ids], "coact": [[[E x E]] per layer]}, or the
//               shared coactivation.json shape {"layers": count, "experts",
//               "top_k", "matrices": {`coact_key`: [layer][i][j]}}.
// A layer without a load takes the sorted load profile interpolated
// (geometrically) between the nearest given layers, assigned to experts by a
// seeded shuffle: the skew carries over, expert identities cannot. A layer
// without a matrix gets no co-activation target. Without a load file, loads
// are the matrices' row sums / (k - 1).
struct TargetFiles {
  std::vector<std::string> load_paths;
  std::string load_key;
  std::string coact_path, coact_key = "base";
  uint64_t seed = 1;
};
Result<FitTargets> TargetsFromFiles(const TargetFiles& files, const std::string& model,
                                    uint32_t num_experts, uint32_t num_topk,
                                    const std::vector<uint32_t>& layers);

}  // namespace epsim::synth

#endif  // EPSIM_SIM_SYNTH_FIT_H_
