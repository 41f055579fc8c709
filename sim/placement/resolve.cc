#include "sim/placement/resolve.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "sim/base/string_util.h"
#include "sim/placement/algorithms.h"
#include "sim/placement/placement_file.h"
#include "sim/trace/reader.h"

namespace epsim::placement {
namespace {

// Splits "replicate:N" into the algorithm and N; false if `text` names no
// algorithm.
bool ParseAlgorithm(const std::string& text, PlacementSpec* spec, Status* error) {
  const size_t colon = text.find(':');
  spec->algorithm = text.substr(0, colon);
  const auto& names = AlgorithmNames();
  if (std::find(names.begin(), names.end(), spec->algorithm) == names.end()) return false;
  if (spec->algorithm == "replicate") spec->replica_slots = 1;
  if (colon == std::string::npos) return true;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, spec->replica_slots);
  if (spec->algorithm != "replicate" || ec != std::errc() || end != last ||
      spec->replica_slots == 0)
    *error = Status::Usage("placement '" + text + "': only replicate:N takes a count N >= 1");
  return true;
}

Result<LayerPlacements> FromFile(const std::string& path, uint32_t num_ranks,
                                 const trace::Trace& profile, const std::string& profile_name) {
  Result<LayerPlacements> read = ReadPlacementFile(path);
  const bool looks_like_name = path.find('/') == std::string::npos &&
                               path.find('.') == std::string::npos;
  if (!read.ok() && read.status().code() == Status::Code::kNotFound && looks_like_name) {
    // No such file and no path syntax: most likely a mistyped algorithm name.
    const std::string near = NearestName(path.substr(0, path.find(':')), AlgorithmNames());
    std::string names;
    for (const std::string& n : AlgorithmNames()) names += (names.empty() ? "" : ", ") + n;
    return Status::Usage(fmt::format(
        "placement '{}' is neither an algorithm nor a placement file{} (algorithms: {})", path,
        near.empty() ? "" : "; did you mean '" + near + "'?", names));
  }
  EPSIM_ASSIGN_OR_RETURN(LayerPlacements p, std::move(read));
  if (p.num_ranks() != num_ranks)
    return Status::BadInput(fmt::format("{}: placement for {} ranks, this run has {}", path,
                                        p.num_ranks(), num_ranks));
  if (profile.header.num_experts() != p.num_experts())
    return Status::BadInput(fmt::format("{}: placement of {} experts, trace {} has {}", path,
                                        p.num_experts(), profile_name,
                                        profile.header.num_experts()));
  return p;
}

}  // namespace

Result<LayerPlacements> ResolvePlacement(const std::string& name_or_file, uint32_t num_ranks,
                                         const trace::Trace& profile,
                                         const std::string& profile_name,
                                         const proto::Topology* topology,
                                         const LayerPlacements* partition) {
  PlacementSpec spec;
  Status error;
  if (!ParseAlgorithm(name_or_file, &spec, &error))
    return FromFile(name_or_file, num_ranks, profile, profile_name);
  EPSIM_RETURN_IF_ERROR(error);
  if (IsTraceFree(spec.algorithm)) {
    auto p = MakePlacement(spec.algorithm, profile.header.num_experts(), num_ranks);
    if (!p.ok()) return p.status().WithContext(profile_name);
    return LayerPlacements(std::move(p).value());
  }
  spec.num_ranks = num_ranks;
  spec.topology = topology;
  if (partition != nullptr && partition->name() == "partition" &&
      partition->num_ranks() == num_ranks && partition->num_experts() == profile.header.num_experts())
    spec.partition = partition;
  auto out = ComputePlacement(spec, trace::ComputeTraceStats(profile), &profile);
  if (!out.ok()) return out.status().WithContext(profile_name);
  return out;
}

Result<LayerPlacements> ResolvePlacement(const std::string& name_or_file, uint32_t num_ranks,
                                         const std::string& profile_trace_path,
                                         const proto::Topology* topology,
                                         const LayerPlacements* partition) {
  PlacementSpec spec;
  Status error;
  const bool is_algorithm = ParseAlgorithm(name_or_file, &spec, &error);
  EPSIM_RETURN_IF_ERROR(error);
  if (profile_trace_path.empty()) {
    if (is_algorithm) return Status::Usage("placement '" + name_or_file + "' needs a trace");
    EPSIM_ASSIGN_OR_RETURN(LayerPlacements p, ReadPlacementFile(name_or_file));
    if (p.num_ranks() != num_ranks)
      return Status::BadInput(fmt::format("{}: placement for {} ranks, this run has {}",
                                          name_or_file, p.num_ranks(), num_ranks));
    return p;
  }
  EPSIM_ASSIGN_OR_RETURN(trace::Trace profile, trace::ReadTrace(profile_trace_path));
  return ResolvePlacement(name_or_file, num_ranks, profile, profile_trace_path, topology,
                          partition);
}

bool BuildsOnPartition(const std::string& name_or_file) {
  PlacementSpec spec;
  Status error;
  return ParseAlgorithm(name_or_file, &spec, &error) && error.ok() && spec.algorithm == "replicate";
}

bool ComputedFromTokens(const std::string& name_or_file) {
  PlacementSpec spec;
  Status error;
  return ParseAlgorithm(name_or_file, &spec, &error) && !IsTraceFree(spec.algorithm);
}

}  // namespace epsim::placement
