// Topologies from `nvidia-smi topo -m` (sim/topology/smi_topo.h): the two
// published logs in ../shared/measurements, hand-written matrices of the
// usual machine shapes, the inverse (RelationsOf) as a round trip, NCCL's
// transport per pair, and every kind of malformed matrix.
#include "sim/topology/smi_topo.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "sim/base/file_util.h"
#include "sim/topology/topology.h"
#include "sim/topology/transport.h"
#include "tests/sim/topology/topology_test_util.h"
#include "tests/testing/shared_logs.h"

namespace epsim::topology {
namespace {

#define SKIP_WITHOUT_SHARED(text) EPSIM_SKIP_WITHOUT_SHARED_LOG(text, "published nvidia-smi logs")
using ::epsim::testing::kMeasurements;
using ::epsim::testing::SharedLog;

SmiMatrix Parse(const std::string& text, const std::string& file = "test.txt") {
  Result<SmiMatrix> m = ParseSmiTopo(text, file);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : SmiMatrix();
}

SmiOptions Options(proto::CpuVendor vendor = proto::INTEL) {
  SmiOptions o;
  o.gpu = testing::UnitGpu();
  o.cpu_vendor = vendor;
  return o;
}

proto::Topology Build(const SmiMatrix& m, const SmiOptions& o,
                      std::vector<std::string>* notes = nullptr) {
  Result<proto::Topology> topo = TopologyFromSmi(m, o, notes);
  EXPECT_TRUE(topo.ok()) << topo.status().ToString();
  return topo.ok() ? *topo : proto::Topology();
}

std::string ParseError(const std::string& text) {
  Result<SmiMatrix> m = ParseSmiTopo(text, "bad.txt");
  EXPECT_FALSE(m.ok()) << "parsed:\n" << text;
  return m.ok() ? "" : m.status().message();
}

int Count(const proto::Topology& topo, proto::ComponentKind kind) {
  int n = 0;
  for (const proto::Component& node : topo.nodes()) n += node.kind() == kind;
  return n;
}

// RelationsOf(built) gives back every cell of `want`.
void ExpectSameRelations(const SmiMatrix& want, const SmiMatrix& got) {
  ASSERT_EQ(got.devices.size(), want.devices.size());
  for (size_t a = 0; a < want.devices.size(); ++a)
    for (size_t b = 0; b < want.devices.size(); ++b)
      EXPECT_EQ(SmiRelationName(got.relations[a][b]), SmiRelationName(want.relations[a][b]))
          << want.devices[a].name << " - " << want.devices[b].name;
}

// What NCCL picks for a pair nvidia-smi relates by `r` (hardware.md): NVLink
// always P2P; on Intel P2P only through PCIe switches (PIX, PXB); on AMD
// P2P on any PCIe path.
Transport NcclWould(const SmiRelation& r, proto::CpuVendor vendor) {
  if (r.link == SmiLink::kNvlink || r.link == SmiLink::kPix || r.link == SmiLink::kPxb)
    return Transport::kP2p;
  return vendor == proto::AMD ? Transport::kP2p : Transport::kShm;
}

void ExpectNcclTransports(const SmiMatrix& m, const proto::Topology& topo,
                          proto::CpuVendor vendor) {
  Result<TransportTable> table = TransportTable::Build(topo, proto::P2P_AUTO);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ(table->num_ranks(), m.num_gpus());
  for (int a = 0; a < m.num_gpus(); ++a) {
    for (int b = 0; b < m.num_gpus(); ++b) {
      if (a == b) continue;
      const PairRoute& pair = table->Pair(a, b);
      EXPECT_EQ(TransportName(pair.transport), TransportName(NcclWould(m.Relation(a, b), vendor)))
          << m.devices[a].name << " -> " << m.devices[b].name << " ("
          << SmiRelationName(m.Relation(a, b)) << "): " << pair.why;
      if (m.Relation(a, b).link == SmiLink::kNvlink) {
        EXPECT_EQ(pair.why, "NVLink route");
      }
    }
  }
}

// Parse, build, check, and come back: the whole contract on one matrix.
proto::Topology RoundTrip(const std::string& text, const SmiOptions& o) {
  const SmiMatrix m = Parse(text);
  const proto::Topology topo = Build(m, o);
  EXPECT_TRUE(ValidateTopology(topo).ok());
  ExpectSameRelations(m, RelationsOf(topo, o.nvlink_gb_per_s));
  ExpectNcclTransports(m, topo, o.cpu_vendor);
  return topo;
}

// ---------------------------------------------------------------------------
// The published logs.

TEST(SmiTopoTest, ReadsRtx2080TiLog) {
  const std::string text = SharedLog("rtx2080ti-x2-pcie-switch-shm.txt");
  SKIP_WITHOUT_SHARED(text);
  const SmiMatrix m = Parse(text, "rtx2080ti.txt");
  ASSERT_EQ(m.devices.size(), 2u);
  EXPECT_EQ(m.num_gpus(), 2);
  EXPECT_EQ(m.header_line, 86);
  EXPECT_EQ(SmiRelationName(m.Relation(0, 1)), "PIX");
  EXPECT_EQ(SmiRelationName(m.Relation(1, 0)), "PIX");
  EXPECT_EQ(SmiRelationName(m.Relation(0, 0)), "X");
  for (const SmiDevice& d : m.devices) {
    EXPECT_EQ(d.cpu_affinity, "24-47,72-95");
    EXPECT_EQ(d.numa_affinity, "1");
    EXPECT_EQ(d.gpu_numa_id, "N/A");
  }
  EXPECT_EQ(m.devices[1].line, 88);
  EXPECT_EQ(m.gpu_model, "NVIDIA GeForce RTX 2080 Ti");
  // The `topo -p2p p` matrix after it (GeForce: not supported).
  ASSERT_EQ(m.p2p.size(), 2u);
  EXPECT_EQ(m.p2p_line, 101);
  EXPECT_EQ(m.p2p[0][1], "NS");
  EXPECT_EQ(m.p2p[1][0], "NS");
}

TEST(SmiTopoTest, Rtx2080TiPairUsesShmAsNcclDid) {
  const std::string text = SharedLog("rtx2080ti-x2-pcie-switch-shm.txt");
  SKIP_WITHOUT_SHARED(text);
  const SmiMatrix m = Parse(text, "rtx2080ti.txt");
  SmiOptions o = Options();
  o.pcie_gen = 3;  // the log's nvtop: PCIe GEN 3@16x
  std::vector<std::string> notes;
  const proto::Topology topo = Build(m, o, &notes);
  EXPECT_EQ(Count(topo, proto::CPU), 1);
  EXPECT_EQ(Count(topo, proto::ROOT_COMPLEX), 1);
  EXPECT_EQ(Count(topo, proto::PCIE_SWITCH), 1);
  for (const proto::Link& link : topo.links()) {
    if (link.kind() == proto::PCIE) {
      EXPECT_DOUBLE_EQ(link.bw_gb_per_s(), 12) << link.name();
    }
  }
  ExpectSameRelations(m, RelationsOf(topo));
  // The header: "NCCL uses SHM" (topo -p2p NS). The file says so ...
  EXPECT_EQ(topo.nccl().p2p(), proto::P2P_OFF);
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes.back().find("rtx2080ti.txt:101"), std::string::npos) << notes.back();
  Result<TransportTable> table = TransportTable::Build(topo, topo.nccl().p2p());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->Count(Transport::kShm), 2);
  EXPECT_EQ(TransportName(table->Pair(0, 1).transport), std::string("SHM"));
  // ... and with P2P-capable cards NCCL's rule would go through the switch.
  ExpectNcclTransports(m, topo, proto::INTEL);
}

TEST(SmiTopoTest, ReadsA100LogWithNic) {
  const std::string text = SharedLog("a100pcie-2node-hdr-ib-allreduce.txt");
  SKIP_WITHOUT_SHARED(text);
  const SmiMatrix m = Parse(text);
  ASSERT_EQ(m.devices.size(), 3u);
  EXPECT_EQ(m.num_gpus(), 2);
  EXPECT_EQ(m.header_line, 7);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      EXPECT_EQ(SmiRelationName(m.Relation(a, b)), a == b ? "X" : "SYS");
  EXPECT_EQ(m.devices[0].numa_affinity, "1");
  EXPECT_EQ(m.devices[1].cpu_affinity, "24-47,72-95");
  const SmiDevice& nic = m.devices[2];
  EXPECT_EQ(nic.kind, SmiDevice::Kind::kNic);
  EXPECT_EQ(nic.name, "NIC0");
  EXPECT_EQ(nic.nic_device, "mlx5_0");
  EXPECT_EQ(nic.cpu_affinity, "");  // NIC rows print no affinity
  EXPECT_EQ(nic.line, 10);
  EXPECT_EQ(m.gpu_model, "NVIDIA A100-PCIE-40GB");
  EXPECT_TRUE(m.p2p.empty());
}

TEST(SmiTopoTest, A100LogFollowsTheMatrixOverTheAffinity) {
  const std::string text = SharedLog("a100pcie-2node-hdr-ib-allreduce.txt");
  SKIP_WITHOUT_SHARED(text);
  const SmiMatrix m = Parse(text);
  std::vector<std::string> notes;
  // Dell R7525, 2 x AMD EPYC 7352 (the header): NCCL allows P2P on AMD.
  const proto::Topology amd = Build(m, Options(proto::AMD), &notes);
  EXPECT_EQ(Count(amd, proto::CPU), 3);  // SYS pairwise: GPU0, GPU1, NIC0 each their own
  EXPECT_EQ(Count(amd, proto::NIC), 1);
  int socket_links = 0;
  for (const proto::Link& link : amd.links())
    socket_links += link.kind() == proto::CPU_INTERCONNECT;
  EXPECT_EQ(socket_links, 3);  // cpu0-cpu1, cpu0-cpu2, cpu1-cpu2
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("both list NUMA affinity 1"), std::string::npos) << notes[0];
  ExpectSameRelations(m, RelationsOf(amd));
  ExpectNcclTransports(m, amd, proto::AMD);
  EXPECT_EQ(amd.nccl().p2p(), proto::P2P_AUTO);
  // The same matrix on an Intel host: SYS means SHM.
  const proto::Topology intel = Build(m, Options(proto::INTEL));
  ExpectNcclTransports(m, intel, proto::INTEL);
  for (const proto::Link& link : amd.links()) {
    if (link.kind() == proto::CPU_INTERCONNECT) {
      EXPECT_DOUBLE_EQ(link.bw_gb_per_s(), 16);
    }
  }
}

// ---------------------------------------------------------------------------
// Hand-written matrices of the usual shapes.

// 2 sockets x 2 PCIe switches (each on its own root complex) x 2 GPUs, and
// a NIC on the first switch.
const char* kTwoSocketsSwitches = R"(
        GPU0    GPU1    GPU2    GPU3    GPU4    GPU5    GPU6    GPU7    NIC0    CPU Affinity    NUMA Affinity   GPU NUMA ID
GPU0     X      PIX     NODE    NODE    SYS     SYS     SYS     SYS     PIX     0-23    0               N/A
GPU1    PIX      X      NODE    NODE    SYS     SYS     SYS     SYS     PIX     0-23    0               N/A
GPU2    NODE    NODE     X      PIX     SYS     SYS     SYS     SYS     NODE    0-23    0               N/A
GPU3    NODE    NODE    PIX      X      SYS     SYS     SYS     SYS     NODE    0-23    0               N/A
GPU4    SYS     SYS     SYS     SYS      X      PIX     NODE    NODE    SYS     24-47   1               N/A
GPU5    SYS     SYS     SYS     SYS     PIX      X      NODE    NODE    SYS     24-47   1               N/A
GPU6    SYS     SYS     SYS     SYS     NODE    NODE     X      PIX     SYS     24-47   1               N/A
GPU7    SYS     SYS     SYS     SYS     NODE    NODE    PIX      X      SYS     24-47   1               N/A
NIC0    PIX     PIX     NODE    NODE    SYS     SYS     SYS     SYS      X

NIC Legend:

  NIC0: mlx5_0
)";

TEST(SmiTopoTest, TwoSocketsOfSwitchesRoundTrip) {
  const proto::Topology topo = RoundTrip(kTwoSocketsSwitches, Options());
  EXPECT_EQ(Count(topo, proto::CPU), 2);
  EXPECT_EQ(Count(topo, proto::ROOT_COMPLEX), 4);
  EXPECT_EQ(Count(topo, proto::PCIE_SWITCH), 4);
  EXPECT_EQ(Count(topo, proto::NIC), 1);
  EXPECT_EQ(topo.nodes(topo.nodes_size() - 1).name(), "nic0");
  EXPECT_EQ(RankNames(topo).size(), 8u);
  RoundTrip(kTwoSocketsSwitches, Options(proto::AMD));
}

// Two switches below a shared upper switch (PXB), and a GPU on a root port.
const char* kUpperSwitch = R"(
        GPU0    GPU1    GPU2    GPU3    GPU4    CPU Affinity    NUMA Affinity
GPU0     X      PIX     PXB     PXB     PHB     0-15    0
GPU1    PIX      X      PXB     PXB     PHB     0-15    0
GPU2    PXB     PXB      X      PIX     PHB     0-15    0
GPU3    PXB     PXB     PIX      X      PHB     0-15    0
GPU4    PHB     PHB     PHB     PHB      X      0-15    0
)";

TEST(SmiTopoTest, SwitchHierarchyRoundTrip) {
  const proto::Topology topo = RoundTrip(kUpperSwitch, Options());
  EXPECT_EQ(Count(topo, proto::ROOT_COMPLEX), 1);
  EXPECT_EQ(Count(topo, proto::PCIE_SWITCH), 3);  // upper + two below it
}

// DGX A100 as nvidia-smi prints it: NV12 between every pair (through
// NVSwitch), NICs PXB to their GPU pair.
const char* kDgxA100 = R"(
        GPU0    GPU1    GPU2    GPU3    GPU4    GPU5    GPU6    GPU7    NIC0    NIC1    CPU Affinity    NUMA Affinity
GPU0     X      NV12    NV12    NV12    NV12    NV12    NV12    NV12    PXB     SYS     0-63    0
GPU1    NV12     X      NV12    NV12    NV12    NV12    NV12    NV12    PXB     SYS     0-63    0
GPU2    NV12    NV12     X      NV12    NV12    NV12    NV12    NV12    NODE    SYS     0-63    0
GPU3    NV12    NV12    NV12     X      NV12    NV12    NV12    NV12    NODE    SYS     0-63    0
GPU4    NV12    NV12    NV12    NV12     X      NV12    NV12    NV12    SYS     PXB     64-127  1
GPU5    NV12    NV12    NV12    NV12    NV12     X      NV12    NV12    SYS     PXB     64-127  1
GPU6    NV12    NV12    NV12    NV12    NV12    NV12     X      NV12    SYS     NODE    64-127  1
GPU7    NV12    NV12    NV12    NV12    NV12    NV12    NV12     X      SYS     NODE    64-127  1
NIC0    PXB     PXB     NODE    NODE    SYS     SYS     SYS     SYS      X      SYS
NIC1    SYS     SYS     SYS     SYS     PXB     PXB     NODE    NODE    SYS      X

NIC Legend:

  NIC0: mlx5_0
  NIC1: mlx5_1
)";

TEST(SmiTopoTest, DgxA100AllToAllNvlinkIsOneNvswitch) {
  std::vector<std::string> notes;
  const SmiMatrix m = Parse(kDgxA100);
  const proto::Topology topo = Build(m, Options(), &notes);
  EXPECT_EQ(Count(topo, proto::NVSWITCH), 1);
  EXPECT_EQ(Count(topo, proto::CPU), 2);
  int nvlinks = 0;
  for (const proto::Link& link : topo.links()) {
    if (link.kind() != proto::NVLINK) continue;
    ++nvlinks;
    EXPECT_EQ(link.b(), "nvsw0");
    EXPECT_DOUBLE_EQ(link.bw_gb_per_s(), 12 * kSmiNvlinkGbPerS);
  }
  EXPECT_EQ(nvlinks, 8);  // one per GPU, not 28 pairs of 12 links each
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("84 NVLinks per GPU"), std::string::npos) << notes[0];
  // Every pair routes over NVSwitch, even GPU2-GPU3 whose root complex ties.
  RoundTrip(kDgxA100, Options());
}

TEST(SmiTopoTest, ShippedDgxA100GivesTheSameRelations) {
  Result<proto::Topology> shipped =
      LoadTopology(std::string(EPSIM_SOURCE_DIR) + "/topologies/dgx-a100.textproto");
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  const SmiMatrix got = RelationsOf(*shipped, 230.0 / 12);  // its 230 GB/s per GPU
  const SmiMatrix want = Parse(kDgxA100);
  ASSERT_EQ(got.num_gpus(), 8);
  for (int a = 0; a < 8; ++a)
    for (int b = 0; b < 8; ++b)
      EXPECT_EQ(SmiRelationName(got.Relation(a, b)), SmiRelationName(want.Relation(a, b)));
}

// NVLink bridges joining pairs, as topologies/a6000-x8-nvlink-pairs.
const char* kNvlinkPairs = R"(
        GPU0    GPU1    GPU2    GPU3    GPU4    GPU5    GPU6    GPU7    CPU Affinity    NUMA Affinity   GPU NUMA ID
GPU0     X      NV4     PHB     PHB     SYS     SYS     SYS     SYS     0-15    0               N/A
GPU1    NV4      X      PHB     PHB     SYS     SYS     SYS     SYS     0-15    0               N/A
GPU2    PHB     PHB      X      NV4     SYS     SYS     SYS     SYS     0-15    0               N/A
GPU3    PHB     PHB     NV4      X      SYS     SYS     SYS     SYS     0-15    0               N/A
GPU4    SYS     SYS     SYS     SYS      X      NV4     PHB     PHB     16-31   1               N/A
GPU5    SYS     SYS     SYS     SYS     NV4      X      PHB     PHB     16-31   1               N/A
GPU6    SYS     SYS     SYS     SYS     PHB     PHB      X      NV4     16-31   1               N/A
GPU7    SYS     SYS     SYS     SYS     PHB     PHB     NV4      X      16-31   1               N/A
)";

TEST(SmiTopoTest, NvlinkPairsMatchTheShippedFile) {
  SmiOptions o = Options();
  o.nvlink_gb_per_s = 12;  // NCCL's sm_86 figure, as the shipped file
  const proto::Topology topo = RoundTrip(kNvlinkPairs, o);
  EXPECT_EQ(Count(topo, proto::CPU), 2);
  EXPECT_EQ(Count(topo, proto::ROOT_COMPLEX), 2);
  EXPECT_EQ(Count(topo, proto::PCIE_SWITCH), 0);
  for (const proto::Link& link : topo.links()) {
    if (link.kind() == proto::NVLINK) {
      EXPECT_DOUBLE_EQ(link.bw_gb_per_s(), 48);
    }
  }
  Result<proto::Topology> shipped =
      LoadTopology(std::string(EPSIM_SOURCE_DIR) + "/topologies/a6000-x8-nvlink-pairs.textproto");
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  ExpectSameRelations(RelationsOf(*shipped, 12), RelationsOf(topo, 12));
}

TEST(SmiTopoTest, AffinityPlacesPairsThatOnlyNvlinkRelates) {
  const char* kSame = R"(
        GPU0    GPU1    CPU Affinity    NUMA Affinity
GPU0     X      NV4     0-15    0
GPU1    NV4      X      0-15    0
)";
  const char* kApart = R"(
        GPU0    GPU1    CPU Affinity    NUMA Affinity
GPU0     X      NV4     0-15    0
GPU1    NV4      X      16-31   1
)";
  const proto::Topology same = RoundTrip(kSame, Options());
  EXPECT_EQ(Count(same, proto::CPU), 1);
  EXPECT_EQ(Count(same, proto::ROOT_COMPLEX), 1);
  const proto::Topology apart = RoundTrip(kApart, Options());
  EXPECT_EQ(Count(apart, proto::CPU), 2);
}

TEST(SmiTopoTest, ShippedFilesReadAsNvidiaSmiWould) {
  auto load = [](const std::string& name) {
    Result<proto::Topology> t =
        LoadTopology(std::string(EPSIM_SOURCE_DIR) + "/topologies/" + name + ".textproto");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : proto::Topology();
  };
  EXPECT_EQ(SmiRelationName(RelationsOf(load("a6000-x4-pcie-gen4")).Relation(0, 3)), "PHB");
  EXPECT_EQ(SmiRelationName(RelationsOf(load("a6000-x4-pcie-switch")).Relation(0, 3)), "PIX");
  const SmiMatrix two = RelationsOf(load("a6000-x8-2socket"));
  EXPECT_EQ(SmiRelationName(two.Relation(0, 1)), "PHB");
  EXPECT_EQ(SmiRelationName(two.Relation(0, 4)), "SYS");
}

// ---------------------------------------------------------------------------
// Reading: what the parser finds and what it refuses.

TEST(SmiTopoTest, FindsTheMatrixInsideALogAndStripsColours) {
  const std::string text =
      "$ nvidia-smi topo -p2p r\n"
      "        GPU0    GPU1\n"
      " GPU0   X       OK\n"
      " GPU1   OK      X\n\n"
      "$ nvidia-smi topo -m\n"
      "\t\x1b[4mGPU0\tGPU1\tCPU Affinity\tNUMA Affinity\x1b[0m\r\n"
      "GPU0\t X \t\x1b[32mPXB\x1b[0m\t0-7\t0\r\n"
      "GPU1\tPXB\t X \t0-7\t0\r\n";
  const SmiMatrix m = Parse(text);
  EXPECT_EQ(m.header_line, 7);
  EXPECT_EQ(SmiRelationName(m.Relation(0, 1)), "PXB");
  EXPECT_EQ(m.devices[1].numa_affinity, "0");
  ASSERT_EQ(m.p2p.size(), 2u);
  EXPECT_EQ(m.p2p[0][1], "OK");
  EXPECT_EQ(m.lines[1], "GPU0\t X \tPXB\t0-7\t0");
}

TEST(SmiTopoTest, ReadsOlderDriversNames) {
  const SmiMatrix m = Parse(R"(
        GPU0    GPU1    mlx5_0  CPU Affinity
GPU0     X      SOC     PHB     0-9
GPU1    SOC      X      SOC     10-19
mlx5_0  PHB     SOC      X
)");
  ASSERT_EQ(m.devices.size(), 3u);
  EXPECT_EQ(SmiRelationName(m.Relation(0, 1)), "SYS");
  EXPECT_EQ(m.devices[2].nic_device, "mlx5_0");
}

const char* kGood = R"(
log line
        GPU0    GPU1    CPU Affinity    NUMA Affinity
GPU0     X      PIX     0-7     0
GPU1    PIX      X      0-7     0
)";

// `kGood` with line `line` (1-based) replaced.
std::string WithLine(int line, const std::string& text) {
  std::vector<std::string> lines;
  std::string s = kGood;
  for (size_t at = 0; at < s.size();) {
    const size_t nl = s.find('\n', at);
    lines.push_back(s.substr(at, nl - at));
    at = nl + 1;
  }
  lines[line - 1] = text;
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

void ExpectError(const std::string& text, const std::string& where, const std::string& what) {
  const std::string message = ParseError(text);
  EXPECT_EQ(message.rfind(where, 0), 0u) << message;
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

TEST(SmiTopoTest, RejectsRowWithWrongNumberOfCells) {
  ExpectError(WithLine(5, "GPU1    PIX      X      0-7"), "bad.txt:5:",
              "row GPU1 has 3 cells, the header names 4 columns");
}

TEST(SmiTopoTest, RejectsUnknownCell) {
  ExpectError(WithLine(4, "GPU0     X      PIZ     0-7     0"), "bad.txt:4:",
              "unknown cell 'PIZ'");
  ExpectError(WithLine(4, "GPU0     X      NV19    0-7     0"), "bad.txt:4:", "'NV19'");
}

TEST(SmiTopoTest, NamesP2pOutputReadAsMatrix) {
  ExpectError("        GPU0    GPU1\n GPU0   X       NS\n GPU1   NS      X\n", "bad.txt",
              "no `nvidia-smi topo -m` matrix");
}

TEST(SmiTopoTest, RejectsAsymmetricMatrix) {
  ExpectError(WithLine(5, "GPU1    PXB      X      0-7     0"), "bad.txt:5:",
              "row GPU1 says GPU0 is PXB, but row GPU0 (line 4) says PIX");
}

TEST(SmiTopoTest, RejectsMissingGpuRow) {
  ExpectError(WithLine(5, ""), "bad.txt:5:", "missing row GPU1");
  ExpectError(WithLine(4, "GPU1    PIX      X      0-7     0"), "bad.txt:4:",
              "missing row GPU0");
}

TEST(SmiTopoTest, RejectsExtraRow) {
  ExpectError(std::string(kGood) + "GPU2    PIX     PIX      X      0-7     0\n", "bad.txt:6:",
              "row GPU2 is not in the header");
}

TEST(SmiTopoTest, RejectsMisplacedSelfCells) {
  ExpectError(WithLine(4, "GPU0    PIX      X      0-7     0"), "bad.txt:4:",
              "want X on the diagonal");
}

TEST(SmiTopoTest, RejectsBadHeaderAndAffinity) {
  ExpectError(WithLine(3, "        GPU0    GPU2    CPU Affinity    NUMA Affinity"), "bad.txt:3:",
              "want GPU1 here");
  ExpectError(WithLine(3, "        GPU0    GPU1    CPU Affinity    Power"), "bad.txt:3:",
              "unknown column at 'Power'");
  ExpectError(WithLine(4, "GPU0     X      PIX     zero    0"), "bad.txt:4:",
              "CPU Affinity 'zero'");
}

TEST(SmiTopoTest, RejectsNvlinkToNicAndUnknownLegend) {
  const std::string nic = R"(
        GPU0    NIC0
GPU0     X      NV2
NIC0    NV2      X
)";
  ExpectError(nic, "bad.txt:3:", "joins a NIC by NVLink");
  const std::string legend = R"(
        GPU0    NIC0
GPU0     X      PIX
NIC0    PIX      X

NIC Legend:

  NIC1: mlx5_1
)";
  ExpectError(legend, "bad.txt:8:", "NIC legend names NIC1");
}

TEST(SmiTopoTest, RejectsMalformedP2pMatrix) {
  ExpectError(std::string(kGood) + "\n$ nvidia-smi topo -p2p w\n        GPU0    GPU1\n"
                                   " GPU0   X       YES\n GPU1   OK      X\n",
              "bad.txt:9:", "'YES'");
}

TEST(SmiTopoTest, RejectsCellsThatAreNotATree) {
  const SmiMatrix m = Parse(R"(
        GPU0    GPU1    GPU2
GPU0     X      PIX     PHB
GPU1    PIX      X      PIX
GPU2    PHB     PIX      X
)", "chain.txt");
  Result<proto::Topology> topo = TopologyFromSmi(m, Options());
  ASSERT_FALSE(topo.ok());
  EXPECT_EQ(topo.status().message().rfind("chain.txt:3: GPU0 and GPU2 are PHB", 0), 0u)
      << topo.status().message();
}

TEST(SmiTopoTest, RejectsUnevenNvswitchGroup) {
  std::string text = kDgxA100;
  text.replace(text.find("NV12"), 4, "NV11");  // GPU0-GPU1 only, one side
  const std::string asym = ParseError(text);
  EXPECT_NE(asym.find("not symmetric"), std::string::npos) << asym;
  const size_t second = text.find("NV12", text.find("\nGPU1"));
  text.replace(second, 4, "NV11");  // and the other side
  Result<proto::Topology> topo = TopologyFromSmi(Parse(text), Options());
  ASSERT_FALSE(topo.ok());
  EXPECT_NE(topo.status().message().find("not all NV# alike"), std::string::npos)
      << topo.status().message();
}

// ---------------------------------------------------------------------------
// Options and sources.

TEST(SmiTopoTest, PcieGenerationPicksNcclsFigure) {
  const SmiMatrix m = Parse(kGood);
  for (auto [gen, gb_per_s] : {std::pair{3, 12.0}, std::pair{4, 24.0}, std::pair{5, 48.0}}) {
    SmiOptions o = Options();
    o.pcie_gen = gen;
    const proto::Topology topo = Build(m, o);
    for (const proto::Link& link : topo.links()) {
      if (link.kind() == proto::PCIE) {
        EXPECT_DOUBLE_EQ(link.bw_gb_per_s(), gb_per_s);
      }
    }
  }
  SmiOptions o = Options();
  o.pcie_gen = 6;
  EXPECT_FALSE(TopologyFromSmi(m, o).ok());
}

TEST(SmiTopoTest, EveryLinkSaysWhereItCameFrom) {
  const proto::Topology topo = Build(Parse(kTwoSocketsSwitches, "box.txt"), Options());
  EXPECT_EQ(topo.name(), "smi-box");
  for (const proto::Link& link : topo.links()) {
    EXPECT_EQ(link.source().rfind("inferred from nvidia-smi topo -m (box.txt): ", 0), 0u)
        << link.source();
    EXPECT_NE(link.source().find("bandwidth: "), std::string::npos) << link.source();
  }
}

TEST(SmiTopoTest, GeForceWithoutP2pMatrixIsShm) {
  SmiOptions o = Options();
  o.gpu.set_name("NVIDIA GeForce RTX 4090");
  std::vector<std::string> notes;
  const proto::Topology topo = Build(Parse(kGood), o, &notes);
  EXPECT_EQ(topo.nccl().p2p(), proto::P2P_OFF);
  o.p2p = proto::P2P_AUTO;  // a P2P-enabling driver
  EXPECT_EQ(Build(Parse(kGood), o).nccl().p2p(), proto::P2P_AUTO);
}

TEST(SmiTopoTest, HostIndexPrefixesNames) {
  SmiOptions o = Options();
  o.host = 1;
  const proto::Topology topo = Build(Parse(kGood), o);
  for (const proto::Component& node : topo.nodes()) {
    EXPECT_EQ(node.host(), 1u);
    EXPECT_EQ(node.name().rfind("n1-", 0), 0u) << node.name();
  }
  ExpectSameRelations(Parse(kGood), RelationsOf(topo, kSmiNvlinkGbPerS, 1));
}

TEST(SmiTopoTest, FindsShippedGpuSpecByModel) {
  const std::string dir = std::string(EPSIM_SOURCE_DIR) + "/topologies";
  std::string from;
  Result<proto::GpuSpec> a100 = FindGpuSpec(dir, "NVIDIA A100-SXM4-80GB", &from);
  ASSERT_TRUE(a100.ok()) << a100.status().ToString();
  EXPECT_EQ(a100->name(), "NVIDIA A100 SXM4 80GB");
  EXPECT_EQ(std::filesystem::path(from).filename(), "dgx-a100.textproto");
  EXPECT_TRUE(FindGpuSpec(dir, "NVIDIA RTX A6000").ok());
  EXPECT_EQ(FindGpuSpec(dir, "NVIDIA GeForce RTX 2080 Ti").status().code(),
            Status::Code::kNotFound);
}

TEST(SmiTopoTest, HeaderHoldsMatrixTreeAndNotes) {
  const SmiMatrix m = Parse(kTwoSocketsSwitches, "box.txt");
  const proto::Topology topo = Build(m, Options());
  const std::string header = SmiTopologyHeader(m, topo, {"a note"}, "Written by a test.");
  EXPECT_EQ(header.rfind("# proto-file: sim/proto/topology.proto\n", 0), 0u);
  EXPECT_NE(header.find("# Written by a test.\n"), std::string::npos);
  EXPECT_NE(header.find("#   GPU7    SYS"), std::string::npos) << header;
  EXPECT_NE(header.find("#   cpu0\n#     rc0\n#       sw0: gpu0 gpu1 nic0\n"), std::string::npos)
      << header;
  EXPECT_NE(header.find("#   - a note\n"), std::string::npos);
  // The header is a comment: the text format reads past it.
  std::string text;
  proto::Topology back;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(topo, &text));
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(header + text, &back));
  EXPECT_EQ(back.links_size(), topo.links_size());
}

}  // namespace
}  // namespace epsim::topology
