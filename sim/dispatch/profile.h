// Profiles for the strategies that consult more than the token itself:
// per layer, C2R's partner lists and pruning Scheme 2's expert similarity
// (LayerProfile, strategy.h). Built from a profiling trace, which may be
// the traced run itself or a separate calibration trace, or, for the
// similarity, read from a file. The caller owns the returned maps; a
// strategy's RouteContext points into them.
//
// Definitions, per layer, over the profiling trace's tokens:
//   partners[e]      every other expert, by descending co-activation count
//                    with e (tokens whose top-k holds both; trace_stats.h's
//                    coact), ties to the lower id; E - 1 entries.
//   similarity[i][j] cosine similarity of experts i and j's score vectors
//                    over tokens: s_t(e) is e's score in token t's candidate
//                    list, 0 when e is not listed. sum_t s_t(i) s_t(j) /
//                    sqrt(sum_t s_t(i)^2 sum_t s_t(j)^2); 0 when either
//                    expert never appears. Occult uses the cosine of full
//                    router outputs; a trace listing all E candidates gives
//                    exactly that, one listing only the top-k gives a
//                    score-weighted co-activation cosine
//                    (DescribeSimilarityEstimate says which).
//
// Similarity file (JSON), for a table computed elsewhere:
//   {"default": [[...], ...],            // E rows of E numbers, optional
//    "layers": {"3": [[...], ...], ...}} // per layer, optional
// A layer uses its own table, else "default"; a layer needing a table and
// finding neither is bad input. Entries are finite numbers, row i column j
// the similarity of expert i to expert j (higher = more similar); the table
// need not be symmetric. Only the row of a replaced expert is read.
#ifndef EPSIM_SIM_DISPATCH_PROFILE_H_
#define EPSIM_SIM_DISPATCH_PROFILE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/dispatch/strategy.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_stats.h"

namespace epsim::dispatch {

// Which parts of a LayerProfile to compute; the others stay empty.
struct ProfileParts {
  bool partners = false;
  bool similarity = false;
};

// What `strategy` consults: partners for c2r, similarity for
// pruned:N_d:similarity, nothing for the rest.
ProfileParts PartsNeededBy(const Strategy& strategy);

// Streams the trace at `profile_trace_path` once; its num_experts must be
// `num_experts`. One profile per layer the trace holds.
Result<std::map<uint32_t, LayerProfile>> BuildProfiles(const std::string& profile_trace_path,
                                                       uint32_t num_experts,
                                                       ProfileParts parts = {true, true});
// The same over an in-memory trace (num_experts from its header).
std::map<uint32_t, LayerProfile> BuildProfiles(const trace::Trace& trace,
                                               ProfileParts parts = {true, true});

// Partner lists from a co-activation matrix, as defined above.
std::vector<std::vector<uint32_t>> PartnersFromCoactivation(const trace::CountMatrix& coact);

// One line saying how BuildProfiles estimates similarity from a trace with
// these figures, for output headers.
std::string DescribeSimilarityEstimate(uint32_t num_topk, uint32_t num_candidates);

// Parsed similarity file: row-major E x E tables.
struct SimilarityTables {
  std::string source;                             // file name, for errors
  std::vector<float> fallback;                    // empty when the file has no "default"
  std::map<uint32_t, std::vector<float>> per_layer;
};

// Parses the JSON above; `source` names the text in errors.
Result<SimilarityTables> ParseSimilarityJson(const std::string& text, const std::string& source,
                                             uint32_t num_experts);
Result<SimilarityTables> ReadSimilarityFile(const std::string& path, uint32_t num_experts);

// Sets (*profiles)[layer].similarity for every layer in `layers`, creating
// profiles as needed; replaces any estimated table.
Status ApplySimilarity(const SimilarityTables& tables, const std::vector<uint32_t>& layers,
                       std::map<uint32_t, LayerProfile>* profiles);

}  // namespace epsim::dispatch

#endif  // EPSIM_SIM_DISPATCH_PROFILE_H_
