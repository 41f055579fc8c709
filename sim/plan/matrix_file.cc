#include "sim/plan/matrix_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "sim/plan/bench_schedule.h"

namespace epsim::plan {
namespace {

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

bool IsSkipped(const std::string& line, const char* comments) {
  const std::string t = Trim(line);
  return t.empty() || std::strchr(comments, t[0]) != nullptr;
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> items;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) items.push_back(Trim(item));
  if (!s.empty() && s.back() == ',') items.push_back("");
  return items;
}

Status SquareCheck(size_t rows, size_t cols) {
  if (rows < 2 || rows != cols)
    return Status::BadInput(
        fmt::format("matrix is {} x {}, want square with >= 2 ranks", rows, cols));
  return Status::Ok();
}

Result<MatrixFile> ParseFractions(const std::string& text) {
  MatrixFile f;
  f.format = MatrixFormat::kFractions;
  std::istringstream lines(text);
  std::string line;
  size_t rows = 0, cols = 0, line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (IsSkipped(line, "#")) continue;
    const std::vector<std::string> items = SplitCommas(Trim(line));
    for (const std::string& item : items) {
      char* end = nullptr;
      const double v = item.empty() ? NAN : std::strtod(item.c_str(), &end);
      if (item.empty() || *end != '\0' || !(v >= 0 && v <= 1))
        return Status::BadInput(
            fmt::format("line {}: '{}' is not a fraction in [0, 1]", line_no, item));
      f.fractions.push_back(v);
    }
    if (rows > 0 && items.size() != cols)
      return Status::BadInput(
          fmt::format("line {}: {} entries, want {}", line_no, items.size(), cols));
    cols = items.size();
    ++rows;
  }
  EPSIM_RETURN_IF_ERROR(SquareCheck(rows, cols));
  f.num_ranks = static_cast<uint32_t>(rows);
  return f;
}

// One [collective] section of a UCC pattern file.
struct UccSection {
  int line = 0;
  std::string type, datatype, team_size, counts;
};

// UCC's INI dialect (src/utils/ini.c): ';' and '#' comment lines, `key =
// value`, an indented line continues the previous key's value. A `}` line
// at column 0 (as UCC's own examples close their counts) ends the value.
Result<std::vector<UccSection>> UccSections(const std::string& text) {
  std::vector<UccSection> sections;
  std::istringstream lines(text);
  std::string line, section, key;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (IsSkipped(line, ";#")) continue;
    const std::string t = Trim(line);
    const bool continued = std::isspace(static_cast<unsigned char>(line[0])) || t == "}";
    if (t[0] == '[' && !continued) {
      if (t.back() != ']') return Status::BadInput(fmt::format("line {}: '{}' is not a [section]", line_no, t));
      section = t.substr(1, t.size() - 2);
      if (section == "collective") sections.push_back({line_no, "", "", "", ""});
      key.clear();
      continue;
    }
    std::string value = t;
    if (!continued || key.empty()) {
      const size_t eq = t.find('=');
      if (eq == std::string::npos)
        return Status::BadInput(fmt::format("line {}: '{}' is not key = value", line_no, t));
      key = Trim(t.substr(0, eq));
      value = Trim(t.substr(eq + 1));
    }
    if (section != "collective") continue;
    UccSection& s = sections.back();
    if (key == "type") s.type = value;
    if (key == "datatype") s.datatype = value;
    if (key == "team_size") s.team_size = value;
    if (key == "counts") s.counts += (s.counts.empty() ? "" : ",") + value;
  }
  return sections;
}

Result<std::vector<uint64_t>> UccCounts(const UccSection& s) {
  std::string c = s.counts;
  c.erase(std::remove_if(c.begin(), c.end(), [](char ch) { return ch == '{' || ch == '}'; }),
          c.end());
  std::vector<uint64_t> counts;
  for (const std::string& item : SplitCommas(c)) {
    if (item.empty()) continue;  // the "{" and "}" lines
    if (item.find_first_not_of("0123456789") != std::string::npos || item.size() > 10 ||
        std::stoull(item) > UINT32_MAX)
      return Status::BadInput(fmt::format(
          "[collective] at line {}: count '{}' is not a 32-bit element count", s.line, item));
    counts.push_back(std::stoull(item));
  }
  return counts;
}

Status AddUccSection(const UccSection& s, MatrixFile* f) {
  auto bad = [&](const std::string& what) {
    return Status::BadInput(fmt::format("[collective] at line {}: {}", s.line, what));
  };
  if (s.type != "ALLTOALLV") return bad("type '" + s.type + "', want ALLTOALLV (as UCC)");
  std::string dt = s.datatype.empty() ? "float32" : s.datatype;
  std::transform(dt.begin(), dt.end(), dt.begin(), [](char ch) { return std::tolower(ch); });
  const uint64_t elem = UccTypeBytes(dt);
  if (elem == 0) return bad("unknown datatype '" + s.datatype + "'");
  EPSIM_ASSIGN_OR_RETURN(std::vector<uint64_t> counts, UccCounts(s));
  const auto n = static_cast<uint32_t>(std::llround(std::sqrt(double(counts.size()))));
  if (n < 2 || uint64_t{n} * n != counts.size())
    return bad(fmt::format("{} counts, want n x n for n >= 2", counts.size()));
  if (!s.team_size.empty() && s.team_size != std::to_string(n))
    return bad(fmt::format("team_size {} but {} x {} counts", s.team_size, n, n));
  if (!f->bytes.empty() && (n != f->num_ranks || elem != f->element_bytes))
    return bad(fmt::format("{} ranks of {} B elements, but the first pattern has {} of {} B", n,
                           elem, f->num_ranks, f->element_bytes));
  f->num_ranks = n;
  f->element_bytes = elem;
  f->ucc_datatype = s.datatype;
  for (uint64_t& c : counts) c *= elem;
  f->bytes.push_back(std::move(counts));
  return Status::Ok();
}

Result<MatrixFile> ParseUcc(const std::string& text) {
  EPSIM_ASSIGN_OR_RETURN(std::vector<UccSection> sections, UccSections(text));
  if (sections.empty()) return Status::BadInput("no [collective] section (a UCC pattern file?)");
  MatrixFile f;
  f.format = MatrixFormat::kUcc;
  for (const UccSection& s : sections) EPSIM_RETURN_IF_ERROR(AddUccSection(s, &f));
  return f;
}

}  // namespace

Result<MatrixFormat> ParseMatrixFormat(const std::string& name) {
  if (name == "bytes") return MatrixFormat::kBytes;
  if (name == "fractions") return MatrixFormat::kFractions;
  if (name == "ucc") return MatrixFormat::kUcc;
  return Status::Usage("unknown matrix format '" + name + "' (bytes, fractions, ucc)");
}

const char* MatrixFormatName(MatrixFormat format) {
  switch (format) {
    case MatrixFormat::kBytes: return "bytes";
    case MatrixFormat::kFractions: return "fractions";
    case MatrixFormat::kUcc: return "ucc";
  }
  return "unknown";
}

MatrixFormat DetectMatrixFormat(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (IsSkipped(line, ";#")) continue;
    if (Trim(line)[0] == '[') return MatrixFormat::kUcc;
    return line.find(',') != std::string::npos ? MatrixFormat::kFractions : MatrixFormat::kBytes;
  }
  return MatrixFormat::kBytes;
}

uint64_t UccTypeBytes(const std::string& name) {
  static const std::pair<const char*, uint64_t> kTypes[] = {
      {"int8", 1},     {"uint8", 1},           {"int16", 2},   {"uint16", 2},
      {"float16", 2},  {"bfloat16", 2},        {"int32", 4},   {"uint32", 4},
      {"float32", 4},  {"float32_complex", 8}, {"int64", 8},   {"uint64", 8},
      {"float64", 8},  {"float64_complex", 16}, {"int128", 16}, {"uint128", 16}};
  for (const auto& [n, bytes] : kTypes)
    if (name == n) return bytes;
  return 0;
}

Result<MatrixFile> ParseMatrixFile(const std::string& text, MatrixFormat format) {
  if (format == MatrixFormat::kFractions) return ParseFractions(text);
  if (format == MatrixFormat::kUcc) return ParseUcc(text);
  MatrixFile f;
  uint32_t n = 0;
  EPSIM_ASSIGN_OR_RETURN(std::vector<uint64_t> m, ParseMatrixText(text, &n));
  f.num_ranks = n;
  f.bytes.push_back(std::move(m));
  return f;
}

}  // namespace epsim::plan
