// SGLang expert-distribution CSV dumps (sglang_counts.h).
#include "sim/synth/sglang_counts.h"

#include <cctype>
#include <charconv>
#include <fstream>
#include <limits>
#include <string_view>

#include <fmt/format.h>

#include "sim/base/file_util.h"

namespace epsim::synth {
namespace {

// A field as a non-negative integer no larger than `max`; "" when it is one,
// else why not.
std::string ParseCount(std::string_view field, uint64_t max, uint64_t* out) {
  if (!field.empty() && field[0] == '-') return "is negative";
  const char* end = field.data() + field.size();
  auto [ptr, ec] = std::from_chars(field.data(), end, *out);
  if (field.empty() || ptr != end || !std::isdigit(static_cast<unsigned char>(field[0])))
    return "is not a non-negative integer";
  if (ec == std::errc::result_out_of_range || *out > max) return "is too large";
  return "";
}

// Parses one row into (layer, expert, count); "" or what is wrong.
std::string ParseRow(std::string_view row, uint32_t num_experts, uint64_t v[3]) {
  static constexpr const char* kNames[3] = {"layer_id", "expert_id", "count"};
  const uint64_t max[3] = {std::numeric_limits<uint32_t>::max(), std::numeric_limits<uint32_t>::max(),
                           std::numeric_limits<uint64_t>::max()};
  for (int f = 0; f < 3; ++f) {
    const size_t comma = f < 2 ? row.find(',') : std::string_view::npos;
    if (f < 2 && comma == std::string_view::npos)
      return fmt::format("{} fields, expected 3 (layer_id,expert_id,count)", f + 1);
    const std::string_view field = row.substr(0, comma);
    if (f == 2 && field.find(',') != std::string_view::npos) return "more than 3 fields";
    if (std::string why = ParseCount(field, max[f], &v[f]); !why.empty())
      return fmt::format("{} '{}' {}", kNames[f], field, why);
    if (f < 2) row.remove_prefix(comma + 1);
  }
  if (v[1] >= num_experts) return fmt::format("expert {} >= num_experts {}", v[1], num_experts);
  return "";
}

// Adds one file's rows to `counts`.
Status AddFile(const std::string& path, uint32_t num_experts, ExpertCounts* counts) {
  EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::map<std::pair<uint64_t, uint64_t>, size_t> first_line;  // (layer, expert) -> line
  size_t pos = 0;
  for (size_t line = 1; pos < text.size(); ++line) {
    const size_t nl = text.find('\n', pos);
    auto bad = [&](const std::string& what) { return Status::BadInput(fmt::format("{}:{}: {}", path, line, what)); };
    if (nl == std::string::npos) return bad("truncated line (no newline at its end: the file was cut)");
    std::string_view row(text.data() + pos, nl - pos);
    pos = nl + 1;
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    if (line == 1) {
      if (row != kSglangCountsHeader)
        return bad(fmt::format("header '{}', expected '{}' (an SGLang expert-distribution CSV)", row,
                               kSglangCountsHeader));
      continue;
    }
    if (row.empty()) return bad("empty line");
    uint64_t v[3];
    if (std::string why = ParseRow(row, num_experts, v); !why.empty()) return bad(why);
    if (auto [it, fresh] = first_line.try_emplace({v[0], v[1]}, line); !fresh)
      return bad(fmt::format("layer {} expert {} listed twice (first on line {})", v[0], v[1], it->second));
    uint64_t& c = counts->per_layer.try_emplace(static_cast<uint32_t>(v[0]), num_experts, 0).first->second[v[1]];
    if (v[2] > std::numeric_limits<uint64_t>::max() - counts->total_picks) return bad("counts sum past 2^64");
    c += v[2];
    counts->total_picks += v[2];
  }
  if (text.empty()) return Status::BadInput(fmt::format("{}:1: empty file, expected the header '{}'", path, kSglangCountsHeader));
  return Status::Ok();
}

}  // namespace

bool LooksLikeSglangCounts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char c;
  while (in.get(c))
    if (!std::isspace(static_cast<unsigned char>(c))) return c != '{';
  return static_cast<bool>(in.is_open());
}

Result<ExpertCounts> ReadSglangCounts(const std::vector<std::string>& paths, uint32_t num_experts) {
  ExpertCounts counts;
  for (const std::string& path : paths) EPSIM_RETURN_IF_ERROR(AddFile(path, num_experts, &counts));
  if (counts.per_layer.empty()) {
    std::string names;
    for (const std::string& p : paths) names += (names.empty() ? "" : ", ") + p;
    return Status::BadInput(fmt::format("{}: no counts (header only)", names));
  }
  return counts;
}

}  // namespace epsim::synth
