#include "sim/topology/smi_topo.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <regex>
#include <set>
#include <sstream>

#include "sim/base/data_paths.h"
#include "sim/base/string_util.h"
#include "sim/base/file_util.h"
#include "sim/topology/topology.h"
#include "sim/topology/transport.h"

namespace epsim::topology {

namespace {

// ---------------------------------------------------------------------------
// Reading the text.

// nvidia-smi colours its output when it writes to a terminal; logs keep the
// escape sequences (ESC [ ... letter). Windows logs keep their \r.
std::string StripAnsi(const std::string& line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\x1b') {
      out += line[i];
      continue;
    }
    if (i + 1 < line.size() && line[i + 1] == '[') {
      for (i += 2; i < line.size() && !std::isalpha(static_cast<unsigned char>(line[i]));) ++i;
    } else {
      ++i;  // a two-character escape
    }
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(StripAnsi(line));
  return lines;
}

std::vector<std::string> Tokens(const std::string& line) { return SplitWhitespace(line); }

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool IsBlank(const std::string& line) { return Tokens(line).empty(); }

const std::regex kGpuName("GPU([0-9]+)");
const std::regex kNicName("NIC([0-9]+)|mlx[0-9]+_[0-9]+");
const std::regex kCpuList("N/A|[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*");

bool IsDeviceName(const std::string& s) {
  return std::regex_match(s, kGpuName) || std::regex_match(s, kNicName);
}

// A matrix header: whitespace first, then GPU0 (topo -m and topo -p2p alike).
bool IsHeader(const std::string& line) {
  const std::vector<std::string> t = Tokens(line);
  return !line.empty() && std::isspace(static_cast<unsigned char>(line[0])) && !t.empty() &&
         t[0] == "GPU0";
}

const std::set<std::string> kP2pCells = {"X", "OK", "NS", "CNS", "GNS", "TNS", "U"};

// A `topo -p2p` matrix: its command is the line above, or its first row
// holds a value only that matrix uses. Everything else is read as topo -m.
bool IsP2pBlock(const std::vector<std::string>& lines, size_t header) {
  for (size_t i = header; i-- > 0;) {
    if (IsBlank(lines[i])) continue;
    if (lines[i].find("-p2p") != std::string::npos ||
        lines[i].find("--p2pstatus") != std::string::npos)
      return true;
    break;
  }
  if (header + 1 >= lines.size()) return false;
  for (const std::string& t : Tokens(lines[header + 1]))
    if (t != "X" && kP2pCells.count(t)) return true;
  return false;
}

Status Bad(const std::string& file, size_t line_index, const std::string& message) {
  return Status::BadInput(fmt::format("{}:{}: {}", file, line_index + 1, message));
}

Result<SmiRelation> ParseCell(const std::string& cell) {
  static const std::map<std::string, SmiLink> kCells = {
      {"X", SmiLink::kSelf}, {"SYS", SmiLink::kSys}, {"SOC", SmiLink::kSys},
      {"NODE", SmiLink::kNode}, {"PHB", SmiLink::kPhb}, {"PXB", SmiLink::kPxb},
      {"PIX", SmiLink::kPix}};
  if (auto it = kCells.find(cell); it != kCells.end()) return SmiRelation{it->second, 0};
  static const std::regex kNv("NV([0-9]+)");
  std::smatch m;
  if (std::regex_match(cell, m, kNv)) {
    const int n = std::stoi(m[1]);
    if (n >= 1 && n <= 18) return SmiRelation{SmiLink::kNvlink, n};
  }
  std::string hint;
  if (kP2pCells.count(cell)) hint = " (a `nvidia-smi topo -p2p` value: this is not topo -m output)";
  return Status::BadInput(fmt::format("unknown cell '{}': want X, SYS, NODE, PHB, PXB, PIX or "
                                      "NV1..NV18{}", cell, hint));
}

const std::vector<std::string> kExtraColumns = {"CPU Affinity", "NUMA Affinity", "GPU NUMA ID"};

// Reads one matrix; `lines_` and `file_` are the whole log.
class MatrixReader {
 public:
  MatrixReader(const std::vector<std::string>& lines, const std::string& file)
      : lines_(lines), file_(file) {}

  Status Read(size_t header, SmiMatrix* m);
  Status ReadP2p(size_t header, SmiMatrix* m);

 private:
  Status ReadHeader(size_t header, SmiMatrix* m);
  Status ReadRow(size_t at, int row, SmiMatrix* m);
  Status ReadExtras(size_t at, const std::vector<std::string>& cells, SmiDevice* d);
  Status CheckSymmetric(const SmiMatrix& m) const;
  Status ReadNicLegend(size_t from, SmiMatrix* m);
  std::vector<std::string> RowTokens(size_t at) const {
    return at < lines_.size() ? Tokens(lines_[at]) : std::vector<std::string>{};
  }

  const std::vector<std::string>& lines_;
  const std::string& file_;
  std::vector<std::string> extras_;  // the optional columns the header names, in order
};

Status MatrixReader::ReadHeader(size_t header, SmiMatrix* m) {
  const std::vector<std::string> t = Tokens(lines_[header]);
  size_t i = 0;
  int nics = 0;
  for (; i < t.size() && IsDeviceName(t[i]); ++i) {
    SmiDevice d;
    d.name = t[i];
    std::smatch match;
    if (std::regex_match(t[i], match, kGpuName)) {
      if (nics > 0 || std::stoi(match[1]) != m->num_gpus())
        return Bad(file_, header, fmt::format("column {}: want GPU{} here (GPUs come first, "
                                              "numbered from 0)", t[i], m->num_gpus()));
      d.index = m->num_gpus();
    } else {
      if (std::regex_match(t[i], match, kNicName) && match[1].matched &&
          std::stoi(match[1]) != nics)
        return Bad(file_, header, fmt::format("column {}: want NIC{} here", t[i], nics));
      d.kind = SmiDevice::Kind::kNic;
      d.index = nics++;
      if (d.name.rfind("NIC", 0) != 0) d.nic_device = d.name;
    }
    for (const SmiDevice& other : m->devices)
      if (other.name == d.name) return Bad(file_, header, "column " + d.name + " repeated");
    m->devices.push_back(d);
  }
  std::string rest = Join({t.begin() + i, t.end()}, " ");
  while (!rest.empty()) {
    auto known = std::find_if(kExtraColumns.begin(), kExtraColumns.end(), [&](const auto& c) {
      return rest.rfind(c, 0) == 0 && (rest.size() == c.size() || rest[c.size()] == ' ');
    });
    if (known == kExtraColumns.end() ||
        std::find(extras_.begin(), extras_.end(), *known) != extras_.end())
      return Bad(file_, header, fmt::format("unknown column at '{}': want device columns "
                                            "(GPU<i>, NIC<j>), then CPU Affinity, NUMA "
                                            "Affinity, GPU NUMA ID", rest));
    extras_.push_back(*known);
    rest = rest.size() == known->size() ? "" : rest.substr(known->size() + 1);
  }
  return Status::Ok();
}

Status MatrixReader::ReadExtras(size_t at, const std::vector<std::string>& cells,
                                SmiDevice* d) {
  const size_t first = cells.size() - extras_.size();
  for (size_t e = 0; e < extras_.size(); ++e) {
    const std::string& cell = cells[first + e];
    if (!std::regex_match(cell, kCpuList))
      return Bad(file_, at, fmt::format("row {}: {} '{}': want N/A or a list like 0-23,48-71",
                                        d->name, extras_[e], cell));
    if (extras_[e] == "CPU Affinity") d->cpu_affinity = cell;
    if (extras_[e] == "NUMA Affinity") d->numa_affinity = cell;
    if (extras_[e] == "GPU NUMA ID") d->gpu_numa_id = cell;
  }
  return Status::Ok();
}

Status MatrixReader::ReadRow(size_t at, int row, SmiMatrix* m) {
  SmiDevice& d = m->devices[row];
  const size_t n = m->devices.size();
  const std::vector<std::string> t = RowTokens(at);
  if (t.empty() || t[0] != d.name)
    return Bad(file_, std::min(at, lines_.size()),
               fmt::format("missing row {} (the header names {} devices; rows follow its "
                           "order){}", d.name, n, t.empty() ? "" : ", found '" + t[0] + "'"));
  d.line = static_cast<int>(at + 1);
  const std::vector<std::string> cells(t.begin() + 1, t.end());
  const bool nic_short = d.kind == SmiDevice::Kind::kNic && cells.size() == n;
  if (cells.size() != n + extras_.size() && !nic_short) {
    std::vector<std::string> columns;
    for (const SmiDevice& c : m->devices) columns.push_back(c.name);
    columns.insert(columns.end(), extras_.begin(), extras_.end());
    return Bad(file_, at, fmt::format("row {} has {} cells, the header names {} columns ({})",
                                      d.name, cells.size(), columns.size(),
                                      Join(columns, ", ")));
  }
  for (size_t j = 0; j < n; ++j) {
    Result<SmiRelation> r = ParseCell(cells[j]);
    if (!r.ok()) return Bad(file_, at, fmt::format("row {}, column {}: {}", d.name,
                                                   m->devices[j].name, r.status().message()));
    const bool self = r->link == SmiLink::kSelf;
    if (self != (j == size_t(row)))
      return Bad(file_, at, fmt::format("row {}, column {}: {}", d.name, m->devices[j].name,
                                        self ? "X off the diagonal" : "want X on the diagonal"));
    const bool nic = d.kind == SmiDevice::Kind::kNic ||
                     m->devices[j].kind == SmiDevice::Kind::kNic;
    if (r->link == SmiLink::kNvlink && nic)
      return Bad(file_, at, fmt::format("row {}, column {}: {} joins a NIC by NVLink", d.name,
                                        m->devices[j].name, cells[j]));
    m->relations[row][j] = *r;
  }
  return nic_short ? Status::Ok() : ReadExtras(at, cells, &d);
}

Status MatrixReader::CheckSymmetric(const SmiMatrix& m) const {
  for (size_t a = 0; a < m.devices.size(); ++a) {
    for (size_t b = a + 1; b < m.devices.size(); ++b) {
      if (m.relations[a][b] == m.relations[b][a]) continue;
      return Bad(file_, m.devices[b].line - 1,
                 fmt::format("row {} says {} is {}, but row {} (line {}) says {}: the matrix "
                             "is not symmetric", m.devices[b].name, m.devices[a].name,
                             SmiRelationName(m.relations[b][a]), m.devices[a].name,
                             m.devices[a].line, SmiRelationName(m.relations[a][b])));
    }
  }
  return Status::Ok();
}

// "NIC Legend:" then lines "  NIC0: mlx5_0", up to the next matrix.
Status MatrixReader::ReadNicLegend(size_t from, SmiMatrix* m) {
  static const std::regex kEntry("\\s*(NIC[0-9]+):\\s*(\\S+)\\s*");
  size_t i = from;
  const std::vector<std::string> title = Tokens("NIC Legend:");
  while (i < lines_.size() && !IsHeader(lines_[i]) && Tokens(lines_[i]) != title) ++i;
  if (i >= lines_.size() || IsHeader(lines_[i])) return Status::Ok();
  for (++i; i < lines_.size(); ++i) {
    if (IsBlank(lines_[i])) continue;
    std::smatch entry;
    if (!std::regex_match(lines_[i], entry, kEntry)) break;
    auto nic = std::find_if(m->devices.begin(), m->devices.end(),
                            [&](const SmiDevice& d) { return d.name == entry[1].str(); });
    if (nic == m->devices.end())
      return Bad(file_, i, fmt::format("NIC legend names {}, which the matrix (line {}) does not "
                                       "have", entry[1].str(), m->header_line));
    if (!nic->nic_device.empty()) return Bad(file_, i, "NIC legend names " + nic->name + " twice");
    nic->nic_device = entry[2];
  }
  return Status::Ok();
}

Status MatrixReader::Read(size_t header, SmiMatrix* m) {
  m->header_line = static_cast<int>(header + 1);
  EPSIM_RETURN_IF_ERROR(ReadHeader(header, m));
  const size_t n = m->devices.size();
  m->relations.assign(n, std::vector<SmiRelation>(n));
  for (size_t r = 0; r < n; ++r) EPSIM_RETURN_IF_ERROR(ReadRow(header + 1 + r, int(r), m));
  const size_t after = header + 1 + n;
  if (after < lines_.size()) {
    const std::vector<std::string> t = Tokens(lines_[after]);
    if (!t.empty() && IsDeviceName(t[0]))
      return Bad(file_, after, fmt::format("row {} is not in the header (line {}), which names "
                                           "{} devices", t[0], header + 1, n));
  }
  for (size_t i = header; i < after; ++i) m->lines.push_back(lines_[i]);
  EPSIM_RETURN_IF_ERROR(CheckSymmetric(*m));
  return ReadNicLegend(after, m);
}

Status MatrixReader::ReadP2p(size_t header, SmiMatrix* m) {
  const std::vector<std::string> cols = Tokens(lines_[header]);
  const int g = m->num_gpus();
  if (int(cols.size()) != g)
    return Bad(file_, header, fmt::format("the topo -p2p matrix names {} columns, topo -m (line "
                                          "{}) has {} GPUs", cols.size(), m->header_line, g));
  m->p2p_line = static_cast<int>(header + 1);
  for (int r = 0; r < g; ++r) {
    const size_t at = header + 1 + r;
    const std::vector<std::string> t = RowTokens(at);
    const std::string want = fmt::format("GPU{}", r);
    if (t.empty() || t[0] != want || int(t.size()) != g + 1)
      return Bad(file_, std::min(at, lines_.size()),
                 fmt::format("topo -p2p matrix: want row {} with {} cells", want, g));
    std::vector<std::string> row(t.begin() + 1, t.end());
    for (int c = 0; c < g; ++c) {
      if (!kP2pCells.count(row[c]) || (row[c] == "X") != (c == r))
        return Bad(file_, at, fmt::format("topo -p2p matrix: row {}, column GPU{}: '{}' (want X "
                                          "on the diagonal, else OK, NS, CNS, GNS, TNS or U)",
                                          want, c, row[c]));
    }
    m->p2p.push_back(row);
  }
  return Status::Ok();
}

// The GPU model as the log names it: nvidia-smi's table ("|   0  NVIDIA
// GeForce RTX 2080 Ti     On  |") or nccl-tests' device lines ("#  Rank  0
// Group  0 Pid 5425 on test1 device  0 [0x81] NVIDIA A100-PCIE-40GB").
void FindGpuModel(const std::vector<std::string>& lines, SmiMatrix* m) {
  static const std::regex kSmiTable("\\|\\s+[0-9]+\\s+(\\S.*?)\\s+(On|Off)\\s+\\|.*");
  static const std::regex kNcclTests(
      "#\\s+Rank\\s+[0-9]+.*\\sdevice\\s+[0-9]+\\s+\\[[^\\]]*\\]\\s+(\\S.*?)\\s*");
  std::set<std::string> models;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch match;
    if (!std::regex_match(lines[i], match, kSmiTable) &&
        !std::regex_match(lines[i], match, kNcclTests))
      continue;
    if (models.insert(match[1]).second && models.size() == 1) {
      m->gpu_model = match[1];
      m->gpu_model_line = static_cast<int>(i + 1);
    }
  }
  if (models.size() > 1) {
    m->gpu_model.clear();
    m->gpu_model_line = 0;
  }
}

// ---------------------------------------------------------------------------
// Building the topology (the mapping in smi_topo.h).

// Levels of the PCIe tree, nearest first; SYS means different sockets.
constexpr int kPixLevel = 0, kPxbLevel = 1, kPhbLevel = 2, kNodeLevel = 3, kSysLevel = 4;
constexpr int kMaxNvlinksPerGpu = 18;  // H100 and B200 (A100 12, V100 6)
constexpr double kPcieHopUs = 1.0;     // NCCL's PCIe hop, LL (hardware.md)
constexpr double kNvlinkHopUs = 0.6;   // NCCL's NVLink hop, LL (hardware.md)
constexpr double kSocketLinkUs = 1.0;  // assumption, as the shipped two-socket files

// The level of a PCIe cell; -1 for X and NV# (which hides the PCIe relation).
int Level(const SmiRelation& r) {
  switch (r.link) {
    case SmiLink::kPix: return kPixLevel;
    case SmiLink::kPxb: return kPxbLevel;
    case SmiLink::kPhb: return kPhbLevel;
    case SmiLink::kNode: return kNodeLevel;
    case SmiLink::kSys: return kSysLevel;
    default: return -1;
  }
}

// Union-find whose root is the smallest member.
class Partition {
 public:
  explicit Partition(int n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  int Find(int x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Join(int a, int b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<int> parent_;
};

// Where the affinity columns put a device: its NUMA node, else its CPU
// list; empty when they do not say.
std::string AffinityKey(const SmiDevice& d) {
  if (!d.numa_affinity.empty() && d.numa_affinity != "N/A")
    return "NUMA affinity " + d.numa_affinity;
  if (!d.cpu_affinity.empty() && d.cpu_affinity != "N/A") return "CPU affinity " + d.cpu_affinity;
  return "";
}

std::string Names(const SmiMatrix& m, const std::vector<int>& members) {
  std::vector<std::string> names;
  for (int d : members) names.push_back(m.devices[d].name);
  return Join(names, ", ");
}

// groups[level][d]: the smallest device of d's group at PIX..NODE.
using Groups = std::vector<std::vector<int>>;

class Grouper {
 public:
  explicit Grouper(const SmiMatrix& m) : m_(m), n_(int(m.devices.size())), p_(n_) {}

  Result<Groups> Run() {
    Groups groups(kSysLevel, std::vector<int>(n_));
    for (int level = 0; level < kSysLevel; ++level) {
      ForPairs([&](int a, int b) { if (Level(m_.Relation(a, b)) == level) p_.Join(a, b); });
      // NV# hides the PCIe relation: the affinity columns place the pair.
      if (level >= kPhbLevel) ForPairs([&](int a, int b) { JoinByAffinity(a, b, level); });
      for (int a = 0; a < n_; ++a)
        for (int b = a + 1; b < n_; ++b)
          if (Level(m_.Relation(a, b)) > level && p_.Find(a) == p_.Find(b))
            return NotATree(a, b, level);
      for (int d = 0; d < n_; ++d) groups[level][d] = p_.Find(d);
    }
    return groups;
  }

 private:
  template <typename F>
  void ForPairs(F f) {
    for (int a = 0; a < n_; ++a)
      for (int b = a + 1; b < n_; ++b) f(a, b);
  }

  void JoinByAffinity(int a, int b, int level) {
    if (m_.Relation(a, b).link != SmiLink::kNvlink || p_.Find(a) == p_.Find(b)) return;
    const std::string ka = AffinityKey(m_.devices[a]), kb = AffinityKey(m_.devices[b]);
    if (!ka.empty() && !kb.empty() && ka != kb) return;
    const int ra = p_.Find(a), rb = p_.Find(b);
    for (int x = 0; x < n_; ++x)
      for (int y = 0; y < n_; ++y)
        if (p_.Find(x) == ra && p_.Find(y) == rb && Level(m_.Relation(x, y)) > level) return;
    p_.Join(a, b);
  }

  Status NotATree(int a, int b, int level) {
    std::vector<int> members;
    for (int d = 0; d < n_; ++d)
      if (p_.Find(d) == p_.Find(a)) members.push_back(d);
    static const char* kNames[] = {"PIX", "PXB", "PHB", "NODE"};
    return Status::BadInput(fmt::format(
        "{}:{}: {} and {} are {}, but the cells of {} or nearer join them in one group ({}): "
        "the cells are not the levels of one PCIe tree", m_.file, m_.devices[a].line,
        m_.devices[a].name, m_.devices[b].name, SmiRelationName(m_.Relation(a, b)),
        kNames[level], Names(m_, members)));
  }

  const SmiMatrix& m_;
  const int n_;
  Partition p_;
};

struct Figure {
  double gb_per_s = 0;
  std::string why;
};

struct PcieFigures {
  int gen = 4;
  Figure link;
  double raw_gb_per_s = 0;  // x16 raw rate per direction
};

Result<PcieFigures> PcieFiguresOf(const SmiOptions& o) {
  struct Gen { int gen; double nccl_gb_per_s, raw_gb_per_s; int gts; };
  static const Gen kGens[] = {{3, 12, 15.75, 8}, {4, 24, 31.5, 16}, {5, 48, 63, 32}};
  for (const Gen& g : kGens) {
    if (g.gen != o.pcie_gen) continue;
    PcieFigures f{g.gen, {g.nccl_gb_per_s, ""}, g.raw_gb_per_s};
    if (o.pcie_gb_per_s > 0) {
      f.link = {o.pcie_gb_per_s, fmt::format("{} GB/s given by the user", o.pcie_gb_per_s)};
    } else if (g.gen == 4) {
      f.link.why = "hardware.md: NCCL rates PCIe Gen4 x16 at 24 GB/s (raw 31.5 GB/s)";
    } else {
      f.link.why = fmt::format(
          "NCCL rates PCIe Gen{} x16 at {} GB/s (width x rate / 80, src/graph/topo.cc: 16 x {} "
          "/ 80; hardware.md's Gen4 24 GB/s scaled by {} vs 16 GT/s; raw {} GB/s)", g.gen,
          g.nccl_gb_per_s, g.gts * 15 / 2, g.gts, g.raw_gb_per_s);
    }
    return f;
  }
  return Status::BadInput(fmt::format("PCIe generation {}: want 3, 4 or 5", o.pcie_gen));
}

Figure CpuLinkFigure(const SmiOptions& o) {
  if (o.cpu_link_gb_per_s > 0)
    return {o.cpu_link_gb_per_s, fmt::format("{} GB/s given by the user", o.cpu_link_gb_per_s)};
  if (o.cpu_vendor == proto::AMD)
    return {16, "hardware.md: NCCL assumes 16 GB/s for AMD Zen1/2 (Zen3/4 24, Zen5 32)"};
  return {10, "hardware.md: NCCL assumes 10 GB/s for an Intel Skylake-class CPU interconnect "
              "(Sapphire Rapids 22, Emerald Rapids 40)"};
}

std::string NvlinkWhy(const SmiOptions& o, int nvlinks) {
  if (o.nvlink_gb_per_s != kSmiNvlinkGbPerS)
    return fmt::format("{} x {} GB/s per NVLink given by the user", nvlinks, o.nvlink_gb_per_s);
  return fmt::format("{} x {} GB/s (hardware.md: A100 ~20 GB/s effective per NVLink, 12 links "
                     "~230 GB/s)", nvlinks, kSmiNvlinkGbPerS);
}

std::string BaseName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

class SmiBuilder {
 public:
  SmiBuilder(const SmiMatrix& m, const SmiOptions& o, Groups groups, PcieFigures pcie,
             std::vector<std::string>* notes)
      : m_(m), o_(o), groups_(std::move(groups)), pcie_(std::move(pcie)), notes_(notes),
        prefix_(o.host == 0 ? "" : fmt::format("n{}-", o.host)), file_(BaseName(m.file)) {}

  Result<proto::Topology> Build();

 private:
  std::string DeviceNode(int d) const {
    const SmiDevice& dev = m_.devices[d];
    const char* kind = dev.kind == SmiDevice::Kind::kGpu ? "gpu" : "nic";
    return prefix_ + fmt::format("{}{}", kind, dev.index);
  }
  std::string AddInfra(const std::string& base, proto::ComponentKind kind) {
    proto::Component& node = (kind == proto::NVSWITCH ? nvswitches_ : infra_).emplace_back();
    node.set_name(prefix_ + base);
    node.set_kind(kind);
    node.set_host(o_.host);
    if (kind == proto::CPU) node.set_cpu_vendor(o_.cpu_vendor);
    return node.name();
  }
  void AddLink(std::vector<proto::Link>* links, const std::string& a, const std::string& b,
               proto::LinkKind kind, const Figure& bw, double latency_us, const std::string& why,
               const std::string& latency_why) {
    proto::Link& link = links->emplace_back();
    link.set_name(a + "-" + b);
    link.set_a(a);
    link.set_b(b);
    link.set_kind(kind);
    link.set_bw_gb_per_s(bw.gb_per_s);
    link.set_latency_us(latency_us);
    link.set_duplex(proto::FULL);
    link.set_source(fmt::format("inferred from nvidia-smi topo -m ({}): {}; bandwidth: {}; "
                                "latency: {}", file_, why, bw.why, latency_why));
  }
  void PcieLink(const std::string& child, const std::string& parent, const std::string& why) {
    AddLink(&pcie_links_, child, parent, proto::PCIE, pcie_.link, kPcieHopUs, why,
            "NCCL PCIe hop 1.0 us (LL)");
  }
  // The groups of `members` at `level`, each in device order.
  std::vector<std::vector<int>> Split(const std::vector<int>& members, int level) const {
    std::vector<std::vector<int>> out;
    std::map<int, size_t> at;
    for (int d : members) {
      auto [it, fresh] = at.emplace(groups_[level][d], out.size());
      if (fresh) out.emplace_back();
      out[it->second].push_back(d);
    }
    return out;
  }
  void AddSocket(const std::vector<int>& members, int socket);
  void AddRootComplex(const std::vector<int>& members, const std::string& cpu, bool alone);
  void AddSwitchTree(const std::vector<int>& members, const std::string& rc);
  Status AddNvlinks();
  Status AddNvlinkGroup(const std::vector<int>& gpus);
  void NoteAffinity();
  proto::P2pPolicy ChooseP2p();
  proto::Topology Assemble() const;

  const SmiMatrix& m_;
  const SmiOptions& o_;
  const Groups groups_;
  const PcieFigures pcie_;
  std::vector<std::string>* notes_;
  const std::string prefix_, file_;
  std::vector<proto::Component> nvswitches_, infra_;
  std::vector<proto::Link> pcie_links_, cpu_links_, nvlinks_;
  int num_cpus_ = 0, num_rcs_ = 0, num_switches_ = 0;
};

void SmiBuilder::AddSocket(const std::vector<int>& members, int socket) {
  const std::string cpu = AddInfra(fmt::format("cpu{}", socket), proto::CPU);
  ++num_cpus_;
  const auto rcs = Split(members, kPhbLevel);
  for (const auto& rc : rcs) AddRootComplex(rc, cpu, rcs.size() == 1);
}

void SmiBuilder::AddRootComplex(const std::vector<int>& members, const std::string& cpu,
                                bool alone) {
  const std::string rc = AddInfra(fmt::format("rc{}", num_rcs_++), proto::ROOT_COMPLEX);
  const auto ports = Split(members, kPxbLevel);
  const Figure bw{double(ports.size()) * std::max(pcie_.raw_gb_per_s, pcie_.link.gb_per_s),
                  fmt::format("assumption: on-die host bridge sized to {} x {} GB/s raw Gen{} "
                              "x16 ports (never the bottleneck)", ports.size(),
                              pcie_.raw_gb_per_s, pcie_.gen)};
  AddLink(&pcie_links_, rc, cpu, proto::MEMORY, bw, 0,
          fmt::format("root complex {} of {} ({}{})", rc, cpu, Names(m_, members),
                      alone ? "" : "; NODE to the socket's other devices"),
          "0 us, on-die (assumption)");
  for (const auto& port : ports) {
    if (port.size() > 1) {
      AddSwitchTree(port, rc);
    } else {
      PcieLink(DeviceNode(port[0]), rc,
               fmt::format("{} on its own root port of {}{}", m_.devices[port[0]].name, rc,
                           members.size() > 1 ? " (PHB to its other devices)" : ""));
    }
  }
}

void SmiBuilder::AddSwitchTree(const std::vector<int>& members, const std::string& rc) {
  const auto groups = Split(members, kPixLevel);
  std::string upper = rc;
  if (groups.size() > 1) {
    upper = AddInfra(fmt::format("sw{}", num_switches_++), proto::PCIE_SWITCH);
    PcieLink(upper, rc, fmt::format("{} are PXB (several PCIe switches, no host bridge): "
                                    "upper switch {}", Names(m_, members), upper));
  }
  for (const auto& group : groups) {
    const std::string sw = AddInfra(fmt::format("sw{}", num_switches_++), proto::PCIE_SWITCH);
    PcieLink(sw, upper, fmt::format("PCIe switch {} of {}", sw, Names(m_, group)));
    for (int d : group)
      PcieLink(DeviceNode(d), sw,
               fmt::format("{} below PCIe switch {}{}", m_.devices[d].name, sw,
                           group.size() > 1 ? " (" + Names(m_, group) + " are PIX)" : ""));
  }
}

// One NVLink-joined group of GPUs: direct links, or one NVSwitch when the
// links a GPU would need exceed what any GPU has.
Status SmiBuilder::AddNvlinkGroup(const std::vector<int>& gpus) {
  int most = 0, first = gpus[0];
  std::set<int> counts;
  for (int a : gpus) {
    int total = 0;
    for (int b : gpus) {
      const SmiRelation& r = m_.Relation(a, b);
      if (a != b) counts.insert(r.link == SmiLink::kNvlink ? r.nvlinks : 0);
      if (r.link == SmiLink::kNvlink) total += r.nvlinks;
    }
    if (total > most) most = total, first = a;
  }
  if (most <= kMaxNvlinksPerGpu) {
    for (int a : gpus)
      for (int b : gpus) {
        const SmiRelation& r = m_.Relation(a, b);
        if (a >= b || r.link != SmiLink::kNvlink) continue;
        AddLink(&nvlinks_, DeviceNode(a), DeviceNode(b), proto::NVLINK,
                {r.nvlinks * o_.nvlink_gb_per_s, NvlinkWhy(o_, r.nvlinks)}, kNvlinkHopUs,
                fmt::format("{}-{} {}", m_.devices[a].name, m_.devices[b].name, SmiRelationName(r)),
                "NCCL NVLink hop 0.6 us (LL)");
      }
    return Status::Ok();
  }
  if (counts.size() != 1)
    return Status::BadInput(fmt::format(
        "{}:{}: {} has {} NVLinks to its peers, more than the {} any GPU has, so they go "
        "through NVSwitch; but {} are not all NV# alike, and epsim cannot infer that NVSwitch "
        "layout", m_.file, m_.devices[first].line, m_.devices[first].name, most,
        kMaxNvlinksPerGpu, Names(m_, gpus)));
  const int k = *counts.begin();
  const std::string nvsw = AddInfra(fmt::format("nvsw{}", nvswitches_.size()), proto::NVSWITCH);
  for (int g : gpus)
    AddLink(&nvlinks_, DeviceNode(g), nvsw, proto::NVLINK,
            {k * o_.nvlink_gb_per_s, NvlinkWhy(o_, k)}, kNvlinkHopUs / 2,
            fmt::format("{} are NV{} all-to-all: through NVSwitch {}", Names(m_, gpus), k, nvsw),
            "NCCL NVLink hop 0.6 us (LL) split over GPU-NVSwitch-GPU");
  if (notes_)
    notes_->push_back(fmt::format("{}: NV{} to each of {} peers is {} NVLinks per GPU, more than "
                                  "{}: modelled as one NVSwitch node {}", Names(m_, gpus), k,
                                  gpus.size() - 1, most, kMaxNvlinksPerGpu, nvsw));
  return Status::Ok();
}

Status SmiBuilder::AddNvlinks() {
  const int n = int(m_.devices.size());
  Partition nv(n);
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b)
      if (m_.Relation(a, b).link == SmiLink::kNvlink) nv.Join(a, b);
  for (int root = 0; root < n; ++root) {
    std::vector<int> group;
    for (int d = 0; d < n; ++d)
      if (nv.Find(d) == root) group.push_back(d);
    if (group.size() > 1) EPSIM_RETURN_IF_ERROR(AddNvlinkGroup(group));
  }
  return Status::Ok();
}

// The matrix decides where the affinity columns disagree: say so.
void SmiBuilder::NoteAffinity() {
  const int n = int(m_.devices.size());
  for (int a = 0; a < n && notes_; ++a) {
    for (int b = a + 1; b < n; ++b) {
      const std::string ka = AffinityKey(m_.devices[a]), kb = AffinityKey(m_.devices[b]);
      const bool same_socket = groups_[kNodeLevel][a] == groups_[kNodeLevel][b];
      if (ka.empty() || kb.empty() || (ka == kb) == same_socket) continue;
      const std::string rel = SmiRelationName(m_.Relation(a, b));
      notes_->push_back(
          ka == kb ? fmt::format("{} and {} are {} but both list {}: they are on different CPU "
                                 "nodes here, as the matrix says", m_.devices[a].name,
                                 m_.devices[b].name, rel, ka)
                   : fmt::format("{} ({}) and {} ({}) are {}: one socket here, as the matrix "
                                 "says", m_.devices[a].name, ka, m_.devices[b].name, kb, rel));
    }
  }
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

proto::P2pPolicy SmiBuilder::ChooseP2p() {
  auto note = [&](const std::string& s) { if (notes_) notes_->push_back(s); };
  if (o_.p2p) {
    note(fmt::format("nccl.p2p {}: given by the user", P2pPolicyName(*o_.p2p)));
    return *o_.p2p;
  }
  const int g = m_.num_gpus();
  bool any_nvlink = false;
  for (int a = 0; a < g; ++a)
    for (int b = 0; b < g; ++b) any_nvlink |= m_.Relation(a, b).link == SmiLink::kNvlink;
  if (!m_.p2p.empty()) {
    int pairs = 0, ok = 0;
    for (int a = 0; a < g; ++a)
      for (int b = a + 1; b < g; ++b, ++pairs) ok += m_.p2p[a][b] == "OK" && m_.p2p[b][a] == "OK";
    if (pairs > 0 && ok == 0) {
      note(fmt::format("{}:{}: nvidia-smi topo -p2p gives no GPU pair P2P ({}): NCCL moves "
                       "data through host memory (SHM); nccl.p2p off", m_.file, m_.p2p_line,
                       m_.p2p[0][1]));
      return proto::P2P_OFF;
    }
    if (ok < pairs)
      note(fmt::format("{}:{}: nvidia-smi topo -p2p: {} of {} GPU pairs have no P2P; nccl.p2p "
                       "stays auto (NCCL's rule), which still gives such a pair P2P where its "
                       "route allows", m_.file, m_.p2p_line, pairs - ok, pairs));
    return proto::P2P_AUTO;
  }
  const std::string model = m_.gpu_model.empty() ? o_.gpu.name() : m_.gpu_model;
  if (Lower(model).find("geforce") == std::string::npos || any_nvlink) return proto::P2P_AUTO;
  note(fmt::format("{} is a GeForce card: no PCIe P2P with NVIDIA's stock driver, so NCCL "
                   "uses SHM (hardware.md); nccl.p2p off (give p2p auto for a P2P-enabling "
                   "driver)", model));
  return proto::P2P_OFF;
}

proto::Topology SmiBuilder::Assemble() const {
  proto::Topology t;
  t.set_name(o_.name.empty() ? "smi-" + FileStem(m_.file) : o_.name);
  const int nics = int(m_.devices.size()) - m_.num_gpus();
  t.set_description(fmt::format(
      "{} x {}{} from nvidia-smi topo -m ({}): {} CPU node(s), {} root complex(es), {} PCIe "
      "switch(es), {} NVLink link(s){}", m_.num_gpus(), o_.gpu.name(),
      nics > 0 ? fmt::format(" and {} NIC(s)", nics) : "", file_, num_cpus_, num_rcs_,
      num_switches_, nvlinks_.size(), nvswitches_.empty() ? "" : " through NVSwitch"));
  *t.mutable_gpu() = o_.gpu;
  for (const auto* nodes : {&nvswitches_, &infra_})
    for (const proto::Component& node : *nodes) *t.add_nodes() = node;
  for (int d = 0; d < int(m_.devices.size()); ++d) {
    proto::Component* node = t.add_nodes();
    node->set_name(DeviceNode(d));
    node->set_kind(m_.devices[d].kind == SmiDevice::Kind::kGpu ? proto::GPU : proto::NIC);
    node->set_host(o_.host);
  }
  for (const auto* links : {&cpu_links_, &pcie_links_, &nvlinks_})
    for (const proto::Link& link : *links) *t.add_links() = link;
  return t;
}

Result<proto::Topology> SmiBuilder::Build() {
  const std::vector<int> all = [&] {
    std::vector<int> v(m_.devices.size());
    std::iota(v.begin(), v.end(), 0);
    return v;
  }();
  const auto sockets = Split(all, kNodeLevel);
  for (size_t s = 0; s < sockets.size(); ++s) AddSocket(sockets[s], int(s));
  const Figure socket_link = CpuLinkFigure(o_);
  for (size_t s = 0; s < sockets.size(); ++s)
    for (size_t u = s + 1; u < sockets.size(); ++u)
      AddLink(&cpu_links_, prefix_ + fmt::format("cpu{}", s), prefix_ + fmt::format("cpu{}", u),
              proto::CPU_INTERCONNECT, socket_link, kSocketLinkUs,
              fmt::format("SYS between {} and {}", Names(m_, sockets[s]), Names(m_, sockets[u])),
              "1.0 us, one PCIe hop (assumption: NCCL's model has no socket-link latency)");
  EPSIM_RETURN_IF_ERROR(AddNvlinks());
  NoteAffinity();
  proto::Topology t = Assemble();
  const proto::P2pPolicy p2p = ChooseP2p();
  if (p2p != proto::P2P_AUTO) t.mutable_nccl()->set_p2p(p2p);
  return t;
}
}  // namespace

std::string SmiRelationName(const SmiRelation& r) {
  switch (r.link) {
    case SmiLink::kSelf: return "X";
    case SmiLink::kNvlink: return fmt::format("NV{}", r.nvlinks);
    case SmiLink::kPix: return "PIX";
    case SmiLink::kPxb: return "PXB";
    case SmiLink::kPhb: return "PHB";
    case SmiLink::kNode: return "NODE";
    case SmiLink::kSys: return "SYS";
  }
  return "?";
}

int SmiMatrix::num_gpus() const {
  return static_cast<int>(std::count_if(devices.begin(), devices.end(), [](const SmiDevice& d) {
    return d.kind == SmiDevice::Kind::kGpu;
  }));
}

Result<SmiMatrix> ParseSmiTopo(const std::string& text, const std::string& file) {
  const std::vector<std::string> lines = Lines(text);
  SmiMatrix m;
  m.file = file;
  MatrixReader reader(lines, file);
  size_t matrix = lines.size(), p2p = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!IsHeader(lines[i])) continue;
    size_t& first = IsP2pBlock(lines, i) ? p2p : matrix;
    first = std::min(first, i);
  }
  if (matrix == lines.size())
    return Status::BadInput(file + ": no `nvidia-smi topo -m` matrix (a header line of "
                            "whitespace then GPU0, GPU1, ...)");
  EPSIM_RETURN_IF_ERROR(reader.Read(matrix, &m));
  if (p2p != lines.size()) EPSIM_RETURN_IF_ERROR(reader.ReadP2p(p2p, &m));
  FindGpuModel(lines, &m);
  return m;
}


Result<proto::Topology> TopologyFromSmi(const SmiMatrix& matrix, const SmiOptions& options,
                                        std::vector<std::string>* notes) {
  if (matrix.num_gpus() == 0) return Status::BadInput(matrix.file + ": the matrix has no GPU");
  if (!(options.nvlink_gb_per_s > 0) || !(options.pcie_gb_per_s >= 0) ||
      !(options.cpu_link_gb_per_s >= 0))
    return Status::BadInput(fmt::format("NVLink {} GB/s must be > 0, PCIe {} and CPU link {} "
                                        "GB/s >= 0", options.nvlink_gb_per_s,
                                        options.pcie_gb_per_s, options.cpu_link_gb_per_s));
  EPSIM_ASSIGN_OR_RETURN(PcieFigures pcie, PcieFiguresOf(options));
  EPSIM_ASSIGN_OR_RETURN(Groups groups, Grouper(matrix).Run());
  SmiBuilder builder(matrix, options, std::move(groups), std::move(pcie), notes);
  EPSIM_ASSIGN_OR_RETURN(proto::Topology topo, builder.Build());
  Status valid = ValidateTopology(topo);
  if (!valid.ok()) return valid.WithContext("topology from " + matrix.file);
  return topo;
}

namespace {

// Inverse of the mapping: the relation nvidia-smi would print for two
// device nodes of a topology (smi_topo.h, RelationsOf).
class RelationFinder {
 public:
  RelationFinder(const proto::Topology& topo, double nvlink_gb_per_s)
      : topo_(topo), nvlink_gb_per_s_(nvlink_gb_per_s), adjacent_(topo.nodes_size()) {
    std::map<std::string, int> index;
    for (int i = 0; i < topo.nodes_size(); ++i) index[topo.nodes(i).name()] = i;
    for (int l = 0; l < topo.links_size(); ++l) {
      const int a = index.at(topo.links(l).a()), b = index.at(topo.links(l).b());
      adjacent_[a].push_back({b, l});
      adjacent_[b].push_back({a, l});
    }
  }

  SmiRelation Relation(int a, int b) const {
    if (a == b) return {SmiLink::kSelf, 0};
    const double nv = NvlinkBw(a, b);
    if (nv > 0) return {SmiLink::kNvlink, std::max(1, int(std::lround(nv / nvlink_gb_per_s_)))};
    return PcieRelation(a, b);
  }

 private:
  proto::ComponentKind Kind(int node) const { return topo_.nodes(node).kind(); }

  // Bottleneck of a direct NVLink, or of NVLinks through one NVSwitch; 0: none.
  double NvlinkBw(int a, int b) const {
    if (Kind(a) != proto::GPU || Kind(b) != proto::GPU) return 0;
    double best = 0;
    for (auto [x, la] : adjacent_[a]) {
      const proto::Link& first = topo_.links(la);
      if (first.kind() != proto::NVLINK) continue;
      if (x == b) return first.bw_gb_per_s();
      if (Kind(x) != proto::NVSWITCH) continue;
      for (auto [y, lb] : adjacent_[x])
        if (y == b && topo_.links(lb).kind() == proto::NVLINK)
          best = std::max(best, std::min(first.bw_gb_per_s(), topo_.links(lb).bw_gb_per_s()));
    }
    return best;
  }

  // Fewest-links route over the host side (breadth first, links in file order).
  SmiRelation PcieRelation(int a, int b) const {
    std::vector<std::pair<int, int>> came_from(topo_.nodes_size(), {-1, -1});  // node, link
    std::vector<int> queue = {a};
    came_from[a] = {a, -1};
    for (size_t q = 0; q < queue.size() && came_from[b].first < 0; ++q) {
      const int at = queue[q];
      if (at != a && Kind(at) != proto::PCIE_SWITCH && Kind(at) != proto::ROOT_COMPLEX &&
          Kind(at) != proto::CPU)
        continue;
      for (auto [next, l] : adjacent_[at]) {
        const proto::LinkKind kind = topo_.links(l).kind();
        if (came_from[next].first >= 0 || kind == proto::NVLINK || kind == proto::NETWORK) continue;
        came_from[next] = {at, l};
        queue.push_back(next);
      }
    }
    if (came_from[b].first < 0) return {SmiLink::kSys, 0};
    int cpus = 0, rcs = 0, switches = 0;
    bool interconnect = false;
    for (int at = b; at != a; at = came_from[at].first) {
      interconnect |= topo_.links(came_from[at].second).kind() == proto::CPU_INTERCONNECT;
      const int via = came_from[at].first;
      if (via == a) break;
      cpus += Kind(via) == proto::CPU;
      rcs += Kind(via) == proto::ROOT_COMPLEX;
      switches += Kind(via) == proto::PCIE_SWITCH;
    }
    if (interconnect || cpus > 1) return {SmiLink::kSys, 0};
    if (cpus == 1 && rcs > 0) return {SmiLink::kNode, 0};
    if (cpus + rcs > 0) return {SmiLink::kPhb, 0};
    return {switches > 1 ? SmiLink::kPxb : SmiLink::kPix, 0};
  }

  const proto::Topology& topo_;
  const double nvlink_gb_per_s_;
  std::vector<std::vector<std::pair<int, int>>> adjacent_;  // node -> (node, link)
};

// The host side drawn as a tree from each CPU: "rc0", "  sw0: gpu0 gpu1".
void DrawTree(const proto::Topology& topo, const std::string& node, int depth,
              std::set<std::string>* seen, std::vector<std::string>* out) {
  seen->insert(node);
  std::vector<std::string> leaves, inner;
  for (const proto::Link& link : topo.links()) {
    if (link.kind() == proto::NVLINK || link.kind() == proto::CPU_INTERCONNECT) continue;
    const std::string* other =
        link.a() == node ? &link.b() : link.b() == node ? &link.a() : nullptr;
    if (other == nullptr || seen->count(*other)) continue;
    auto it = std::find_if(topo.nodes().begin(), topo.nodes().end(),
                           [&](const proto::Component& n) { return n.name() == *other; });
    const bool leaf = it->kind() == proto::GPU || it->kind() == proto::NIC;
    (leaf ? leaves : inner).push_back(*other);
  }
  out->push_back(std::string(2 * depth, ' ') + node +
                 (leaves.empty() ? "" : ": " + Join(leaves, " ")));
  for (const std::string& l : leaves) seen->insert(l);
  for (const std::string& child : inner)
    if (!seen->count(child)) DrawTree(topo, child, depth + 1, seen, out);
}

// nvidia-smi separates columns by tabs: stops every 8 columns, as a terminal.
std::string ExpandTabs(const std::string& line) {
  std::string out;
  for (char c : line) {
    if (c != '\t') out += c;
    else out.append(8 - out.size() % 8, ' ');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string Normalized(const std::string& name) {
  std::string out;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

SmiMatrix RelationsOf(const proto::Topology& topo, double nvlink_gb_per_s, uint32_t host) {
  SmiMatrix m;
  m.file = topo.name();
  std::vector<int> nodes;
  for (proto::ComponentKind kind : {proto::GPU, proto::NIC}) {
    int index = 0;
    for (int i = 0; i < topo.nodes_size(); ++i) {
      if (topo.nodes(i).kind() != kind || topo.nodes(i).host() != host) continue;
      SmiDevice d;
      d.kind = kind == proto::GPU ? SmiDevice::Kind::kGpu : SmiDevice::Kind::kNic;
      d.index = index++;
      d.name = fmt::format("{}{}", kind == proto::GPU ? "GPU" : "NIC", d.index);
      m.devices.push_back(d);
      nodes.push_back(i);
    }
  }
  const RelationFinder finder(topo, nvlink_gb_per_s);
  m.relations.assign(nodes.size(), std::vector<SmiRelation>(nodes.size()));
  for (size_t a = 0; a < nodes.size(); ++a)
    for (size_t b = 0; b < nodes.size(); ++b)
      m.relations[a][b] = finder.Relation(nodes[a], nodes[b]);
  return m;
}

std::string SmiTopologyHeader(const SmiMatrix& matrix, const proto::Topology& topo,
                              const std::vector<std::string>& notes,
                              const std::string& written_by) {
  std::vector<std::string> out = {"proto-file: sim/proto/topology.proto",
                                  "proto-message: epsim.proto.Topology", "", written_by, "",
                                  fmt::format("nvidia-smi topo -m, {} line {}:", matrix.file,
                                              matrix.header_line)};
  for (const std::string& line : matrix.lines) out.push_back("  " + ExpandTabs(line));
  out.push_back("");
  out.push_back("Host side as built (sim/topology/smi_topo.h gives the mapping):");
  std::set<std::string> seen;
  for (const proto::Component& node : topo.nodes())
    if (node.kind() == proto::CPU) DrawTree(topo, node.name(), 1, &seen, &out);
  for (const proto::Link& link : topo.links()) {
    if (link.kind() == proto::CPU_INTERCONNECT || link.kind() == proto::NVLINK)
      out.push_back(fmt::format("  {} = {}  {}, {} GB/s", link.a(), link.b(),
                                proto::LinkKind_Name(link.kind()), link.bw_gb_per_s()));
  }
  if (!notes.empty()) out.push_back("Notes:");
  for (const std::string& note : notes) out.push_back("  - " + note);
  std::string text;
  for (const std::string& line : out) text += (line.empty() ? "#" : "# " + line) + "\n";
  return text + "\n";
}

Result<proto::GpuSpec> FindGpuSpec(const std::string& dir, const std::string& model,
                                   std::string* from) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error))
    if (entry.path().extension() == ".textproto") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  for (const std::string& path : files) {
    proto::Topology topo;
    if (!ReadTextProto(path, &topo).ok() || Normalized(topo.gpu().name()) != Normalized(model))
      continue;
    if (from) *from = path;
    return topo.gpu();
  }
  return Status::NotFound(fmt::format("no topology in {} has GPU '{}'", dir, model));
}

Result<proto::GpuSpec> FindDataGpuSpec(const std::string& model, std::string* from) {
  for (const DataDir& d : DataSearchPath()) {
    Result<proto::GpuSpec> spec = FindGpuSpec(d.path + "/topologies", model, from);
    if (spec.ok()) return spec;
  }
  return Status::NotFound(fmt::format("no topology in topologies/ of {} has GPU '{}'",
                                      DescribeDataSearchPath(), model));
}

}  // namespace epsim::topology
