#include "sim/report/trace_output.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>

#include "sim/report/version.h"

namespace epsim::report {

void WriteTraceHeader(std::ostream& out, const std::string& path,
                      const proto::TraceHeader& h) {
  fmt::print(out, "# epsim {} trace show\n# file: {}\n", kEpsimVersion, path);
  fmt::print(out, "model:          {}\n", h.model().empty() ? "(unknown)" : h.model());
  fmt::print(out, "format version: {}\n", h.version());
  fmt::print(out, "num_experts:    {}\nnum_topk:       {}\nnum_candidates: {}\n",
             h.num_experts(), h.num_topk(), h.num_candidates());
  fmt::print(out, "scores:         {}\n",
             h.scores_absent() ? "absent (expert ids only; strategies that rank by score refuse)"
                               : "router scores");
  fmt::print(out, "forward steps:  {}\n", std::max<uint64_t>(h.num_steps(), 1));
  const proto::Provenance& p = h.provenance();
  fmt::print(out, "source:         {} ({})\n", p.source_format(),
             fmt::join(p.source_files(), ", "));
  fmt::print(out, "tool:           {}{}\n", p.tool(),
             p.seed() != 0 ? fmt::format(", seed {}", p.seed()) : "");
  if (!p.description().empty()) fmt::print(out, "description:    {}\n", p.description());
  uint64_t rows = 0;
  for (const proto::LayerInfo& l : h.layers()) rows += l.num_tokens();
  fmt::print(out, "layers:         {} ({} token rows)\n", h.num_layers(), rows);
  for (const proto::LayerInfo& l : h.layers())
    fmt::print(out, "  layer {:>4}: {:>10} tokens\n", l.layer(), l.num_tokens());
}

void WriteTraceRecord(std::ostream& out, const proto::TraceHeader& h,
                      const proto::LayerRecord& rec, uint64_t record_index,
                      uint32_t max_tokens) {
  const uint32_t k = h.num_topk(), c = h.num_candidates();
  fmt::print(out, "record {}: layer {}, {}{} tokens\n", record_index, rec.layer(),
             h.num_steps() > 1 ? fmt::format("step {}, ", rec.step()) : std::string(),
             rec.token_ids_size());
  const int shown = std::min<int>(rec.token_ids_size(), static_cast<int>(max_tokens));
  for (int t = 0; t < shown; ++t) {
    std::string row;
    for (uint32_t i = 0; i < c; ++i) {
      if (i == k) row += " |";
      if (h.scores_absent())
        row += fmt::format(" {}", rec.topk_idx(t * c + i));
      else
        row += fmt::format(" {}:{:.4f}", rec.topk_idx(t * c + i), rec.topk_weights(t * c + i));
    }
    fmt::print(out, "  token {:>8} seq {:>6} {}\n", rec.token_ids(t), rec.sequence_ids(t), row);
  }
  if (shown < rec.token_ids_size())
    fmt::print(out, "  ... {} more\n", rec.token_ids_size() - shown);
}

std::string TrafficMatrixText(const std::vector<uint64_t>& bytes, uint32_t n,
                              uint64_t unit_bytes) {
  std::string out;
  for (uint32_t src = 0; src < n; ++src) {
    for (uint32_t dst = 0; dst < n; ++dst) {
      const uint64_t b = bytes[size_t{src} * n + dst];
      out += fmt::format("{}{}", dst == 0 ? "" : " ", (b + unit_bytes - 1) / unit_bytes);
    }
    out += "\n";
  }
  return out;
}

}  // namespace epsim::report
