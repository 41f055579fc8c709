#include "sim/report/synth_output.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "sim/report/version.h"

namespace epsim::report {

std::string FormatIdRuns(const std::vector<uint32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    out += (out.empty() ? "" : ", ") +
           (j == i ? std::to_string(ids[i]) : fmt::format("{}..{}", ids[i], ids[j]));
    i = j + 1;
  }
  return out;
}

void WriteSynthHeader(std::ostream& out, const SynthInputs& in) {
  fmt::print(out, "# epsim {} synth\n", kEpsimVersion);
  fmt::print(out, "# model: {}  layers: {}  tokens: {}  seed: {}\n", in.model, FormatIdRuns(in.layers),
             in.num_tokens, in.seed);
  if (!in.like.empty()) fmt::print(out, "# like: {}\n", in.like);
  if (!in.load.format.empty()) {
    std::string files;
    for (const std::string& f : in.load.files) files += (files.empty() ? "" : ", ") + f;
    const size_t n = in.load.files.size();
    const std::string what = n > 1 ? fmt::format("{}, {} files summed", in.load.format, n) : in.load.format;
    fmt::print(out, "# load: {} ({}): layers {}, {} picks\n", files, what, FormatIdRuns(in.load.layers),
               in.load.total_picks);
  }
  if (!in.coact.empty()) fmt::print(out, "# coact: {}\n", in.coact);
}

}  // namespace epsim::report
