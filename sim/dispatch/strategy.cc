// Strategy specs as the command line gives them. A spec is a name and
// colon-separated parameters; numbers are positive decimal integers.
#include "sim/dispatch/strategy.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "sim/base/string_util.h"
#include "sim/dispatch/strategies.h"

namespace epsim::dispatch {
namespace {

constexpr const char* kKnownForms =
    "classical, dedup, pruned:N_d:score, pruned:N_d:similarity, c2r:T, node-limited:M, "
    "hierarchical, luffy:Q:C[:S]";

Status UsageError(const std::string& spec, const std::string& why) {
  return Status::Usage("dispatch strategy '" + spec + "': " + why + " (known: " + kKnownForms +
                       ")");
}

std::vector<std::string> SplitColons(const std::string& spec) {
  std::vector<std::string> parts;
  size_t begin = 0;
  for (size_t end; (end = spec.find(':', begin)) != std::string::npos; begin = end + 1)
    parts.push_back(spec.substr(begin, end - begin));
  parts.push_back(spec.substr(begin));
  return parts;
}

// A positive integer of at most 6 digits (more ranks or experts than that
// is a typo, not a study), digits only: no sign, no spaces.
Result<uint32_t> ParseCount(const std::string& spec, const std::string& what,
                            const std::string& text) {
  uint32_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  const bool digits = !text.empty() && text.size() <= 6 && text[0] >= '0' && text[0] <= '9';
  if (!digits || ec != std::errc() || ptr != end || value == 0)
    return UsageError(spec, what + " must be a positive integer, got '" + text + "'");
  return value;
}

Result<std::unique_ptr<Strategy>> MakePrunedSpec(const std::string& spec,
                                                 const std::vector<std::string>& parts) {
  if (parts.size() != 3) return UsageError(spec, "pruning takes the form pruned:N_d:SCHEME");
  EPSIM_ASSIGN_OR_RETURN(const uint32_t max_devices, ParseCount(spec, "N_d", parts[1]));
  if (parts[2] == "score") return MakePruned(max_devices, PruneScheme::kScore);
  if (parts[2] == "similarity") return MakePruned(max_devices, PruneScheme::kSimilarity);
  return UsageError(spec, "pruning scheme must be 'score' or 'similarity'");
}

// "c2r:T" and "node-limited:M": a name and one count.
Result<std::unique_ptr<Strategy>> MakeOneCountSpec(const std::string& spec,
                                                   const std::vector<std::string>& parts) {
  const bool c2r = parts[0] == "c2r";
  const std::string form = c2r ? "c2r:T" : "node-limited:M";
  if (parts.size() != 2) return UsageError(spec, "expected " + form);
  EPSIM_ASSIGN_OR_RETURN(const uint32_t n, ParseCount(spec, c2r ? "T" : "M", parts[1]));
  if (c2r) return MakeC2R(n);
  return MakeNodeLimited(n);
}

// "luffy:Q:C[:S]": candidates, cluster tokens, capacity slack in percent
// (0 allowed: no device above its even share).
Result<std::unique_ptr<Strategy>> MakeLuffySpec(const std::string& spec,
                                                const std::vector<std::string>& parts) {
  if (parts.size() != 3 && parts.size() != 4)
    return UsageError(spec, "Luffy takes the form luffy:Q:C or luffy:Q:C:S (Q candidate devices "
                            "per sequence, C tokens per similarity cluster, S capacity slack in "
                            "percent, 10 unless given)");
  LuffyParams p;
  EPSIM_ASSIGN_OR_RETURN(p.candidates, ParseCount(spec, "Q", parts[1]));
  EPSIM_ASSIGN_OR_RETURN(p.cluster_tokens, ParseCount(spec, "C", parts[2]));
  if (parts.size() == 4) {
    if (parts[3] == "0") {
      p.slack_percent = 0;
    } else {
      EPSIM_ASSIGN_OR_RETURN(p.slack_percent, ParseCount(spec, "S", parts[3]));
    }
  }
  return MakeLuffy(p);
}

}  // namespace

Result<std::unique_ptr<Strategy>> MakeStrategy(const std::string& spec) {
  if (spec == "classical") return MakeClassical();
  if (spec == "dedup") return MakeDedup();
  if (spec == "hierarchical") return MakeHierarchical();
  const std::vector<std::string> parts = SplitColons(spec);
  if (parts[0] == "pruned") return MakePrunedSpec(spec, parts);
  if (parts[0] == "c2r" || parts[0] == "node-limited") return MakeOneCountSpec(spec, parts);
  if (parts[0] == "luffy") return MakeLuffySpec(spec, parts);
  const std::string near = NearestName(
      parts[0], {"classical", "dedup", "hierarchical", "pruned", "c2r", "node-limited", "luffy"});
  return Status::Usage("unknown dispatch strategy '" + spec + "'" +
                       (near.empty() ? "" : "; did you mean '" + near + "'?") + " (known: " +
                       kKnownForms + ")");
}

Result<std::vector<std::unique_ptr<Strategy>>> MakeStrategies(const std::string& list,
                                                              std::vector<std::string>* repeated) {
  EPSIM_ASSIGN_OR_RETURN(std::vector<std::string> items, SplitCommaList(list, "dispatch list"));
  std::vector<std::unique_ptr<Strategy>> out;
  std::vector<std::string> dropped;
  for (const std::string& item : items) {
    EPSIM_ASSIGN_OR_RETURN(auto strategy, MakeStrategy(item));
    const std::string name = strategy->name();
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const auto& s) { return s->name() == name; });
    if (!seen) {
      out.push_back(std::move(strategy));
    } else if (std::find(dropped.begin(), dropped.end(), name) == dropped.end()) {
      dropped.push_back(name);
    }
  }
  if (repeated != nullptr) *repeated = std::move(dropped);
  return out;
}

}  // namespace epsim::dispatch
