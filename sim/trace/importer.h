// Import of routing logs recorded elsewhere into the trace format.
#ifndef EPSIM_SIM_TRACE_IMPORTER_H_
#define EPSIM_SIM_TRACE_IMPORTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::trace {

struct ImportOptions {
  std::vector<std::string> inputs;  // files as given on the command line
  std::string output;               // trace to write
  std::string model;                // model name for the header ("" = unknown)
  uint32_t num_experts = 0;         // required (from --model or --num-experts)
  std::string format = "auto";      // "auto", "jsonl" or "dense-csv"
};

// Converts `inputs` to one trace at `output`. The format is chosen from the
// file extension when "auto" (.jsonl/.json -> jsonl, .csv -> dense-csv).
//
// jsonl: one object per line with "layer", "experts" (ids, router order) and
//   "gating_probs" (scores); optional "token_pos", "problem_id". A token is
//   identified by its forward step and position: a step starts whenever the
//   layer number goes down from one line to the next (prefill writes all
//   layers for the batch, then each decode step writes layers again), and
//   token ids are assigned in order of first appearance of (step, position).
// dense-csv: header "layer_id,token_id,expert_0..expert_{E-1}"; the layer is
//   the number in the file name (layer7.csv -> 7); the selected experts of a
//   row are its non-zero entries, sorted by descending probability; every row
//   must have the same count, which becomes num_topk.
//
// Any malformed line, missing field or expert id out of range is an error
// "file:line: what", and no output file is left behind.
Status Import(const ImportOptions& options);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_IMPORTER_H_
