#include "sim/base/string_util.h"

#include <algorithm>
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

std::string NearestName(const std::string& word, const std::vector<std::string>& names) {
  // Optimal string alignment distance (Damerau-Levenshtein without repeats).
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    return d[a.size()][b.size()];
  };
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& name : names) {
    const size_t dist = distance(word, name);
    if (dist < best_distance) best_distance = dist, best = name;
  }
  return best;
}

std::vector<std::string> SplitWhitespace(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> tokens;
  for (std::string t; in >> t;) tokens.push_back(t);
  return tokens;
}

}  // namespace epsim
