// The `#` header of `epsim synth` when it fits to data (--like, --load,
// --coact): what it read and what it generates. The trace itself goes to a
// file; this header is synth's only stdout.
#ifndef EPSIM_SIM_REPORT_SYNTH_OUTPUT_H_
#define EPSIM_SIM_REPORT_SYNTH_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sim/synth/fit.h"

namespace epsim::report {

struct SynthInputs {
  std::string model;
  std::vector<uint32_t> layers;  // generated
  uint64_t num_tokens = 0;       // per layer
  uint64_t seed = 0;             // of the tokens
  std::string like;              // --like trace; "" none
  synth::FitTargets::LoadRead load;  // format "": no load file
  std::string coact;             // --coact file; "" none
};

// "# epsim 0.1.0 synth", the model, layers, tokens and seed, then one line
// per input: "# like: F", "# load: F1, F2 (SGLang CSV, 2 files summed):
// layers 0, 15, 1024 picks", "# coact: F". Layer lists show runs as a..b.
void WriteSynthHeader(std::ostream& out, const SynthInputs& in);

// "0..3, 7, 9..10" for {0, 1, 2, 3, 7, 9, 10} (ascending ids).
std::string FormatIdRuns(const std::vector<uint32_t>& ids);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_SYNTH_OUTPUT_H_
