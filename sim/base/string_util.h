// Small string helpers shared by the command-line layers and the log parsers.
#ifndef EPSIM_SIM_BASE_STRING_UTIL_H_
#define EPSIM_SIM_BASE_STRING_UTIL_H_

#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim {

// Splits "a,b,c" at commas. An empty list or an empty item is a usage error
// naming `what` ("dispatch list") and the list.
Result<std::vector<std::string>> SplitCommaList(const std::string& list, const std::string& what);

// The name among `names` nearest to `word` by edit distance (insertions,
// deletions, substitutions, adjacent swaps), if it is within
// max(1, |word| / 3) edits; "" otherwise (a typo gets a suggestion, a
// different word does not).
std::string NearestName(const std::string& word, const std::vector<std::string>& names);

// The whitespace-separated tokens of `line` (spaces and tabs).
std::vector<std::string> SplitWhitespace(const std::string& line);

}  // namespace epsim

#endif  // EPSIM_SIM_BASE_STRING_UTIL_H_
