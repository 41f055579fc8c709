#include "sim/measure/log_text.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <regex>
#include <sstream>

#include "sim/base/string_util.h"

namespace epsim::measure {

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    begin = end + 1;
  }
  return lines;
}

std::vector<std::string> Tokens(const std::string& line) { return SplitWhitespace(line); }

bool IsBlank(const std::string& line) {
  for (char c : line)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

Status BadLine(const std::string& file, int line, const std::string& message) {
  return Status::BadInput(fmt::format("{}:{}: {}", file, line, message));
}

std::optional<PrintedNumber> ParsePrintedNumber(const std::string& token) {
  static const std::regex kNumber("[-+]?([0-9]+)(\\.([0-9]+))?([eE]([-+]?[0-9]+))?");
  std::smatch m;
  if (!std::regex_match(token, m, kNumber)) return std::nullopt;
  // from_chars reads no leading '+'.
  const char* begin = token.data() + (token[0] == '+' ? 1 : 0);
  double value = 0;
  const auto [end, error] = std::from_chars(begin, token.data() + token.size(), value);
  if (error != std::errc() || end != token.data() + token.size() || !std::isfinite(value))
    return std::nullopt;
  const int decimals = m[3].matched ? static_cast<int>(m[3].length()) : 0;
  const int exponent = m[5].matched ? std::stoi(m[5].str()) : 0;
  return PrintedNumber{value, 0.5 * std::pow(10.0, exponent - decimals), token};
}

std::optional<uint64_t> ParseUnsigned(const std::string& token) {
  if (token.empty() || !std::isdigit(static_cast<unsigned char>(token[0]))) return std::nullopt;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (error != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseSigned(const std::string& token) {
  const size_t digits = token.rfind('-', 0) == 0 ? 1 : 0;
  if (token.size() <= digits || !std::isdigit(static_cast<unsigned char>(token[digits])))
    return std::nullopt;
  int64_t value = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (error != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

std::string FormatDouble(double value) { return fmt::format("{}", value); }

}  // namespace epsim::measure
