#include "sim/measure/p2p_matrix.h"

#include <fmt/format.h>

#include <optional>
#include <regex>
#include <utility>

#include "sim/base/file_util.h"
#include "sim/measure/log_text.h"

namespace epsim::measure {

namespace {

constexpr const char* kBanner = "[P2P (Peer-to-Peer) GPU Bandwidth Latency Test]";

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

P2pMethod MethodOf(const std::ssub_match& m) {
  if (!m.matched) return P2pMethod::kUnspecified;
  return m.str() == "Writes" ? P2pMethod::kWrites : P2pMethod::kReads;
}

// The matrix a title announces, values still empty; nullopt when `line`
// is no title.
std::optional<P2pMatrix> FromTitle(const std::string& line) {
  static const std::regex kBandwidth(
      "(Unidirectional|Bidirectional) P2P=(Enabled|Disabled) Bandwidth( \\(P2P (Writes|Reads)\\))?"
      " Matrix \\(GB/s\\)");
  static const std::regex kLatency(
      "P2P=(Enabled|Disabled) Latency( \\(P2P (Writes|Reads)\\))? Matrix \\(us\\)");
  const std::string title = TrimRight(line);
  P2pMatrix m;
  m.title = title;
  std::smatch g;
  if (title == "P2P Connectivity Matrix") {
    m.kind = P2pMatrixKind::kConnectivity;
  } else if (std::regex_match(title, g, kBandwidth)) {
    m.kind = P2pMatrixKind::kBandwidth;
    m.bidirectional = g[1].str() == "Bidirectional";
    m.p2p_enabled = g[2].str() == "Enabled";
    m.method = MethodOf(g[4]);
    m.units = "GB/s";
  } else if (std::regex_match(title, g, kLatency)) {
    m.kind = P2pMatrixKind::kLatency;
    m.p2p_enabled = g[1].str() == "Enabled";
    m.method = MethodOf(g[3]);
    m.timer = P2pTimer::kGpu;
    m.units = "us";
  } else {
    return std::nullopt;
  }
  return m;
}

// Lines that look like a title of the program but are none of its titles.
bool LooksLikeTitle(const std::string& line) {
  static const std::regex kLike("(Unidirectional|Bidirectional|P2P)[ =].*Matrix.*");
  return std::regex_match(TrimRight(line), kLike);
}

class P2pReader {
 public:
  P2pReader(const std::string& text, std::string file)
      : lines_(SplitLines(text)), file_(std::move(file)) {}

  Result<std::vector<P2pRun>> Run();

 private:
  int Number(size_t i) const { return static_cast<int>(i) + 1; }
  P2pRun& Current(size_t i);
  Status ReadDeviceLine(size_t i, bool* matched);
  Status ReadBlock(size_t* i, const std::string& corner, P2pMatrix* m) const;
  Status ReadValue(const std::string& token, const P2pMatrix& m, int row, int col, int line,
                   double* value) const;
  Status AddMatrix(size_t* i, P2pMatrix m);
  Status CheckRun(const P2pRun& run) const;

  const std::vector<std::string> lines_;
  const std::string file_;
  std::vector<P2pRun> runs_;
};

P2pRun& P2pReader::Current(size_t i) {
  if (runs_.empty()) {
    runs_.emplace_back();
    runs_.back().file = file_;
    runs_.back().line = Number(i);
  }
  return runs_.back();
}

Status P2pReader::ReadDeviceLine(size_t i, bool* matched) {
  static const std::regex kDevice(
      "Device: ([0-9]+), (.*), pciBusID: ([0-9a-fA-F]+), pciDeviceID: ([0-9a-fA-F]+), "
      "pciDomainID:([0-9a-fA-F]+)\\s*");
  static const std::regex kAccess("Device=([0-9]+) (CAN|CANNOT) Access Peer Device=([0-9]+)\\s*");
  std::smatch m;
  *matched = true;
  if (std::regex_match(lines_[i], m, kDevice)) {
    P2pRun& run = Current(i);
    if (!run.matrices.empty())
      return BadLine(file_, Number(i), "a Device line after the run's matrices");
    run.devices.push_back(
        {std::stoi(m[1].str()), m[2].str(), m[3].str(), m[4].str(), m[5].str(), Number(i)});
  } else if (std::regex_match(lines_[i], m, kAccess)) {
    Current(i).access.push_back(
        {std::stoi(m[1].str()), std::stoi(m[3].str()), m[2].str() == "CAN", Number(i)});
  } else {
    *matched = false;
  }
  return Status::Ok();
}

Status P2pReader::ReadValue(const std::string& token, const P2pMatrix& m, int row, int col,
                            int line, double* value) const {
  static const std::regex kFixed2("[0-9]+\\.[0-9]{2}");
  if (m.kind == P2pMatrixKind::kConnectivity) {
    if (token != "0" && token != "1")
      return BadLine(file_, line,
                     fmt::format("{}: '{}' at [{}][{}] is not 0 or 1", m.title, token, row, col));
    if (row == col && token != "1")
      return BadLine(file_, line,
                     fmt::format("{}: [{}][{}] is {}, the program prints 1 on the "
                                 "diagonal",
                                 m.title, row, col, token));
    *value = token == "1" ? 1 : 0;
    return Status::Ok();
  }
  const std::optional<PrintedNumber> number =
      std::regex_match(token, kFixed2) ? ParsePrintedNumber(token) : std::nullopt;
  if (!number)  // also a figure of 309 digits and more, beyond a double
    return BadLine(file_, line,
                   fmt::format("{}: '{}' at [{}][{}] is not a figure printed as "
                               "%.2f {}",
                               m.title, token, row, col, m.units));
  *value = number->value;
  return Status::Ok();
}

// One block: the header row at *i (corner, 0 .. n-1), then n rows.
Status P2pReader::ReadBlock(size_t* i, const std::string& corner, P2pMatrix* m) const {
  if (*i >= lines_.size())
    return BadLine(file_, m->title_line,
                   fmt::format("{}: the text ends before its header row", m->title));
  const std::vector<std::string> header = Tokens(lines_[*i]);
  m->line = Number(*i);
  const bool numbered = [&] {
    for (size_t k = 1; k < header.size(); ++k)
      if (header[k] != std::to_string(k - 1)) return false;
    return header.size() >= 2;
  }();
  if (header.empty() || header[0] != corner || !numbered)
    return BadLine(file_, m->line,
                   fmt::format("{}: want a header row '{}  0  1 ...' numbering "
                               "the devices",
                               m->title, corner));
  const int n = static_cast<int>(header.size()) - 1;
  m->num_devices = n;
  m->values.assign(n, std::vector<double>(n, 0));
  for (int row = 0; row < n; ++row) {
    const size_t at = *i + 1 + row;
    const std::vector<std::string> t =
        at < lines_.size() ? Tokens(lines_[at]) : std::vector<std::string>{};
    if (t.empty() || t[0] != std::to_string(row))
      return BadLine(file_, Number(at),
                     fmt::format("{}: want the row of device {} of {} here "
                                 "(a truncated copy?)",
                                 m->title, row, n));
    if (static_cast<int>(t.size()) - 1 != n)
      return BadLine(file_, Number(at),
                     fmt::format("{}: row {} has {} values, the header (line "
                                 "{}) names {} devices (a truncated copy?)",
                                 m->title, row, t.size() - 1, m->line, n));
    for (int col = 0; col < n; ++col)
      EPSIM_RETURN_IF_ERROR(ReadValue(t[col + 1], *m, row, col, Number(at), &m->values[row][col]));
  }
  *i += 1 + n;
  return Status::Ok();
}

Status P2pReader::AddMatrix(size_t* i, P2pMatrix m) {
  const size_t title = *i;
  m.file = file_;
  m.title_line = Number(title);
  ++*i;
  EPSIM_RETURN_IF_ERROR(ReadBlock(i, m.kind == P2pMatrixKind::kLatency ? "GPU" : "D\\D", &m));
  std::vector<P2pMatrix> found = {m};
  const bool cpu_block = m.kind == P2pMatrixKind::kLatency && *i + 1 < lines_.size() &&
                         IsBlank(lines_[*i]) && !Tokens(lines_[*i + 1]).empty() &&
                         Tokens(lines_[*i + 1])[0] == "CPU";
  if (cpu_block) {
    P2pMatrix cpu = m;
    cpu.timer = P2pTimer::kCpu;
    ++*i;
    EPSIM_RETURN_IF_ERROR(ReadBlock(i, "CPU", &cpu));
    found.push_back(std::move(cpu));
  }
  bool repeated = false;
  for (const P2pMatrix& seen : Current(title).matrices)
    repeated |= seen.title == m.title && seen.timer == m.timer;
  if (repeated) {
    runs_.emplace_back();
    runs_.back().file = file_;
    runs_.back().line = Number(title);
  }
  for (P2pMatrix& f : found) Current(title).matrices.push_back(std::move(f));
  return Status::Ok();
}

Status P2pReader::CheckRun(const P2pRun& run) const {
  if (run.matrices.empty())
    return BadLine(file_, run.line,
                   "a p2pBandwidthLatencyTest run with no matrix (a truncated "
                   "copy?)");
  const int n = run.num_devices();
  for (const P2pMatrix& m : run.matrices)
    if (m.num_devices != n)
      return BadLine(file_, m.line,
                     fmt::format("{}: {} devices, the run's first matrix (line {}) "
                                 "has {}",
                                 m.title, m.num_devices, run.matrices[0].line, n));
  for (size_t k = 0; k < run.devices.size(); ++k)
    if (run.devices[k].index != static_cast<int>(k))
      return BadLine(file_, run.devices[k].line,
                     fmt::format("Device {} where device {} belongs", run.devices[k].index, k));
  if (!run.devices.empty() && static_cast<int>(run.devices.size()) != n)
    return BadLine(
        file_, run.devices.back().line,
        fmt::format("{} Device lines, the matrices have {} devices", run.devices.size(), n));
  const P2pMatrix* connectivity = nullptr;
  for (const P2pMatrix& m : run.matrices)
    if (m.kind == P2pMatrixKind::kConnectivity) connectivity = &m;
  for (const P2pAccess& a : run.access) {
    if (a.device >= n || a.peer >= n || a.device == a.peer)
      return BadLine(file_, a.line,
                     fmt::format("Device={} and Device={} are not two of the {} "
                                 "devices",
                                 a.device, a.peer, n));
    if (connectivity && (connectivity->At(a.device, a.peer) == 1) != a.can)
      return BadLine(file_, a.line,
                     fmt::format("says {} but the connectivity matrix (line {}) "
                                 "has {} at [{}][{}]",
                                 a.can ? "CAN" : "CANNOT", connectivity->line,
                                 connectivity->At(a.device, a.peer), a.device, a.peer));
  }
  return Status::Ok();
}

Result<std::vector<P2pRun>> P2pReader::Run() {
  for (size_t i = 0; i < lines_.size();) {
    if (TrimRight(lines_[i]) == kBanner) {
      runs_.emplace_back();
      runs_.back().file = file_;
      runs_.back().line = Number(i++);
      continue;
    }
    bool device_line = false;
    EPSIM_RETURN_IF_ERROR(ReadDeviceLine(i, &device_line));
    if (device_line) {
      ++i;
      continue;
    }
    std::optional<P2pMatrix> m = FromTitle(lines_[i]);
    if (m) {
      EPSIM_RETURN_IF_ERROR(AddMatrix(&i, std::move(*m)));
      continue;
    }
    if (LooksLikeTitle(lines_[i]))
      return BadLine(file_, Number(i),
                     fmt::format("'{}' is not a p2pBandwidthLatencyTest matrix "
                                 "title",
                                 TrimRight(lines_[i])));
    ++i;
  }
  if (runs_.empty())
    return Status::BadInput(file_ +
                            ": no p2pBandwidthLatencyTest matrix (a title such as "
                            "\"Unidirectional P2P=Disabled Bandwidth Matrix (GB/s)\")");
  for (const P2pRun& run : runs_) EPSIM_RETURN_IF_ERROR(CheckRun(run));
  return std::move(runs_);
}

}  // namespace

Result<std::vector<P2pRun>> ParseP2pBandwidthLatencyLog(const std::string& text,
                                                        const std::string& file) {
  return P2pReader(text, file).Run();
}

Result<std::vector<P2pRun>> ReadP2pBandwidthLatencyFile(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  return ParseP2pBandwidthLatencyLog(text, path);
}

}  // namespace epsim::measure
