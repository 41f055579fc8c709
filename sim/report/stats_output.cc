#include "sim/report/stats_output.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <nlohmann/json.hpp>

#include "sim/report/version.h"

namespace epsim::report {
namespace {

nlohmann::ordered_json LayerJson(const plan::LayerStats& s, bool with_layer) {
  nlohmann::ordered_json j;
  if (with_layer) {
    j["layer"] = s.layer;
    j["num_tokens"] = static_cast<uint64_t>(s.num_tokens);
  } else {
    j["num_tokens"] = s.num_tokens;  // a mean over layers
  }
  j["ct_mean"] = s.ct_mean;
  j["rows_classical"] = s.rows_classical;
  j["rows_dedup"] = s.rows_dedup;
  return j;
}

// Token counts are integers per layer; their mean over layers need not be.
void Row(std::ostream& out, const std::string& layer, const plan::LayerStats& s, int digits) {
  fmt::print(out, "{:>7} {:>12.{}f} {:>10.4f} {:>16.4f} {:>12.4f}\n", layer, s.num_tokens,
             digits, s.ct_mean, s.rows_classical, s.rows_dedup);
}

}  // namespace

std::string RoutingStatsJson(const plan::RoutingStats& stats) {
  nlohmann::ordered_json j;
  j["layers"] = nlohmann::ordered_json::array();
  for (const plan::LayerStats& s : stats.layers) j["layers"].push_back(LayerJson(s, true));
  j["mean"] = LayerJson(stats.mean, false);
  return j.dump(2) + "\n";
}

void WriteRoutingStatsTable(std::ostream& out, const std::string& trace_path,
                            const plan::RoutingStats& stats) {
  fmt::print(out, "# epsim {} stats\n# trace: {}\n# ep: {}  placement: {}\n", kEpsimVersion,
             trace_path, stats.num_ranks, stats.placement);
  fmt::print(out, "# ct = distinct devices per token; rows = rows per token leaving its device\n");
  fmt::print(out, "#{:>6} {:>12} {:>10} {:>16} {:>12}\n", "layer", "num_tokens", "ct_mean",
             "rows_classical", "rows_dedup");
  for (const plan::LayerStats& s : stats.layers) Row(out, std::to_string(s.layer), s, 0);
  Row(out, "mean", stats.mean, 2);
}

}  // namespace epsim::report
