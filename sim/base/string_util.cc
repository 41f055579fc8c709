#include "sim/base/string_util.h"

#include <sstream>

namespace epsim {

Result<std::vector<std::string>> SplitCommaList(const std::string& list, const std::string& what) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= list.size()) {
    size_t end = list.find(',', begin);
    if (end == std::string::npos) end = list.size();
    out.push_back(list.substr(begin, end - begin));
    if (out.back().empty()) return Status::Usage("empty item in " + what + " '" + list + "'");
    begin = end + 1;
  }
  return out;
}

std::vector<std::string> SplitWhitespace(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> tokens;
  for (std::string t; in >> t;) tokens.push_back(t);
  return tokens;
}

}  // namespace epsim
