// A structured generative model of MoE routing, and the generator that draws
// traces from it. The uniform generator (synth.h) stays for Occult's
// closed-form checks; this one looks like real routing.
//
// The model, per layer l, for token t of sequence s whose previous-layer
// picks were P(t):
//
//   1. topic:   z ~ topic_weight[z] * (anchor a = topic_anchor[z] >= 0 ?
//                   popularity[a] * seq_s[a] * carry_t[a] : 1)
//   2. weight:  w_e = popularity[e] * topic_boost[z][e] * seq_s[e] * carry_t[e]
//   3. logits:  logit_e = log w_e + G_e,  G_e iid standard Gumbel
//   4. routing: topk_idx = the num_topk largest logits, candidates the next
//               ones, by descending logit
//   5. scores:  softmax over all E experts of score_sharpness * logit_e
//               (divided by the top-k sum when normalize_topk)
//
// where seq_s[e] = exp(sequence_strength * N_se), N_se iid standard normal
// drawn once per (sequence, layer): tokens of a sequence share preferences;
// and carry_t[e] = exp(carry_strength)^(number of p in P(t) with
// successor[p] == e): a token tends to go where its previous-layer experts
// lead. Step 3-4 is the Gumbel-top-k trick: the top k of log w + Gumbel are
// k draws without replacement with probability proportional to w
// (Plackett-Luce), so w is directly "how likely", and the scores of the
// candidates beyond the top k are consistent with the choice by
// construction. Topics carry co-activation: a "group" topic boosts a set of
// experts that are then chosen together; an "anchor" topic (fitted to a
// co-activation matrix) is about one expert a, with topic_boost[z][e] the
// pull of a towards e.
//
// Everything is seeded: std::mt19937_64 with our own transforms
// (random.h), so a (model, seed) pair gives the same trace anywhere.
// The model itself is plain data, saved and loaded as JSON
// (the format is described at the top of model_json.cc).
#ifndef EPSIM_SIM_SYNTH_MODEL_H_
#define EPSIM_SIM_SYNTH_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/trace/trace.h"

namespace epsim::synth {

// One MoE layer of the model. Weights are relative (any positive scale).
struct LayerRoutingModel {
  uint32_t layer = 0;
  std::vector<double> popularity;     // [E] > 0: base pick weight of each expert
  std::vector<double> topic_weight;   // [M] >= 0: how often each topic is drawn
  std::vector<int32_t> topic_anchor;  // [M]: expert the topic is about, or -1
  std::vector<double> topic_boost;    // [M * E] >= 0: weight multiplier under topic z
  // Previous layer's expert p leads to this layer's successor[p]; [E], or
  // empty for the first layer (no carry).
  std::vector<uint32_t> successor;
  double carry_strength = 0;     // log multiplier per previous pick leading to e
  double sequence_strength = 0;  // std dev of a sequence's log preference
  uint32_t num_topics() const { return static_cast<uint32_t>(topic_weight.size()); }
};

struct RoutingModel {
  std::string model;        // name recorded in trace headers
  std::string description;  // where the parameters came from
  uint32_t num_experts = 0;
  uint32_t num_topk = 0;
  double score_sharpness = 1;   // softmax temperature^-1 applied to the logits
  bool normalize_topk = false;  // scores renormalised over the top k
  std::vector<LayerRoutingModel> layers;  // ascending by layer
};

// Checks shapes and ranges; messages name the layer and field.
Status ValidateRoutingModel(const RoutingModel& model);

// Hand parameters of a structured model (`epsim synth --routing structured`).
struct StructuredModelOptions {
  std::string model;
  uint32_t num_experts = 64;
  uint32_t num_topk = 8;
  std::vector<uint32_t> layers;
  double popularity_skew = 0.5;   // std dev of log popularity (lognormal)
  uint32_t num_groups = 8;        // experts split at random into equal groups
  double group_strength = 1.5;    // log boost of the drawn group's experts
  double sequence_strength = 0.5;
  double carry_strength = 1.0;    // successor map: a random permutation per layer
  double score_sharpness = 1.0;
  uint64_t seed = 1;              // draws popularity, groups and successors
};

Result<RoutingModel> BuildStructuredModel(const StructuredModelOptions& options);

// Replaces a layer's topics with `num_groups` random equal groups boosted by
// `strength` (drawn from `seed`); used by the builder and by fits without a
// co-activation target.
void SetGroupTopics(LayerRoutingModel* layer, uint32_t num_experts, uint32_t num_groups,
                    double strength, uint64_t seed);

struct GenerateOptions {
  uint64_t num_tokens = 16384;  // per layer
  uint64_t tokens_per_sequence = 2048;
  uint32_t num_candidates = 0;  // experts listed per token; 0 = num_topk
  uint64_t seed = 1;
};

Result<trace::Trace> GenerateModelTrace(const RoutingModel& model, const GenerateOptions& options);

// JSON form of a model (model_json.cc). Errors name the file.
Status SaveRoutingModel(const RoutingModel& model, const std::string& path);
Result<RoutingModel> LoadRoutingModel(const std::string& path);

}  // namespace epsim::synth

#endif  // EPSIM_SIM_SYNTH_MODEL_H_
