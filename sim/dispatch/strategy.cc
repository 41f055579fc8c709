#include "sim/dispatch/strategy.h"

namespace epsim::dispatch {

Result<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name) {
  if (name == "classical") return MakeClassical();
  if (name == "dedup") return MakeDedup();
  return Status::Usage("unknown dispatch strategy '" + name + "' (known: classical, dedup)");
}

Result<std::vector<std::unique_ptr<Strategy>>> MakeStrategies(const std::string& list) {
  std::vector<std::unique_ptr<Strategy>> out;
  size_t begin = 0;
  while (begin <= list.size()) {
    size_t end = list.find(',', begin);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(begin, end - begin);
    if (item.empty()) return Status::Usage("empty item in dispatch list '" + list + "'");
    EPSIM_ASSIGN_OR_RETURN(auto strategy, MakeStrategy(item));
    out.push_back(std::move(strategy));
    begin = end + 1;
  }
  return out;
}

}  // namespace epsim::dispatch
