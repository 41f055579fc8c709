// Topologies from `nvidia-smi topo -m`: the text users already have for
// their GPU machines, read (ParseSmiTopo), turned into a Topology
// (TopologyFromSmi), and the inverse (RelationsOf) that says what
// nvidia-smi would print for a Topology. Pure protobuf, no SimGrid.
//
// The input. `nvidia-smi topo -m` prints a matrix, usually inside a longer
// log (a shell session, a blog post, an issue):
//
//           GPU0    GPU1    NIC0    CPU Affinity    NUMA Affinity   GPU NUMA ID
//   GPU0     X      PIX     SYS     24-47,72-95     1               N/A
//   GPU1    PIX      X      SYS     24-47,72-95     1               N/A
//   NIC0    SYS     SYS      X
//
//   NIC Legend:
//     NIC0: mlx5_0
//
// The header row starts with whitespace, then GPU0..GPU<n-1>, then the NICs
// (NIC<j>, or mlx5_<j> in older drivers), then the optional columns CPU
// Affinity, NUMA Affinity and GPU NUMA ID. One row per device follows, in
// header order; GPU rows carry the optional columns, NIC rows may leave them
// out. Cells (the legend): X (self), SYS, NODE, PHB, PXB, PIX, NV# (# = 1..18
// bonded NVLinks); SOC is the pre-2017 name of SYS. Cells and columns are
// separated by tabs or spaces; ANSI colour codes are ignored. The "NIC
// Legend" after the matrix names each NIC's device. A `nvidia-smi topo -p2p
// <cap>` matrix in the same log (cells X, OK, NS, CNS, GNS, TNS, U) is read
// as well, and the GPU model is taken from the log's nvidia-smi table or
// nccl-tests device lines when they name one model.
//
// The mapping (TopologyFromSmi). nvidia-smi's relations are the levels of a
// PCIe tree, from the nearest: PIX (at most one PCIe switch between the
// two), PXB (several switches, no host bridge), PHB (through one PCIe host
// bridge, i.e. one root complex), NODE (through the CPU between two host
// bridges of one NUMA node), SYS (across the CPU interconnect between NUMA
// nodes). Grouping devices level by level gives the tree:
//  - socket: devices not SYS to each other form one CPU node; CPU nodes are
//    joined pairwise by CPU_INTERCONNECT links. The matrix decides, not the
//    affinity columns: when a SYS pair lists one NUMA node (the A100 log in
//    ../shared/measurements does), they still get two CPU nodes, because
//    SYS says their traffic crosses the interconnect; a note says so.
//  - root complex: devices PHB or nearer to each other share one
//    ROOT_COMPLEX node below their CPU (NODE pairs: two root complexes of
//    one CPU).
//  - PCIe switches: devices PXB or nearer share a switch tree below their
//    root complex: devices all PIX to each other hang off one PCIE_SWITCH;
//    several PIX groups each get a switch below one shared upper switch
//    (so any two of them cross at least two switches: PXB). A device PHB to
//    every other device of its root complex is on its own root port.
//  - NV#: a direct NVLINK link of # x nvlink_gb_per_s. A GPU whose NV#
//    over all its peers add up to more than 18 (the most NVLinks any GPU
//    has, H100) cannot be joined directly to each: its NVLink group (all
//    pairs alike NV#, as DGX A100 prints NV12) gets one NVSWITCH node, each
//    GPU joined to it by # x nvlink_gb_per_s.
// NV# hides the pair's PCIe relation. For such pairs the affinity columns
// decide: GPUs on the same NUMA node (CPU affinity when NUMA is N/A) are
// put under one root complex unless other cells forbid it; GPUs on
// different NUMA nodes stay on different sockets. Cells that cannot be
// levels of one tree (GPU0-GPU1 PIX, GPU1-GPU2 PIX, GPU0-GPU2 PHB) are bad
// input. NICs are placed like GPUs, from their rows; nothing joins them to a
// network (a matrix describes one host).
//
// Figures (every link's `source` says which): PCIe links rate at NCCL's
// figure for an x16 link of the generation (width x transfer rate / 80 in
// NCCL's src/graph/topo.cc: Gen3 12, Gen4 24 (hardware.md), Gen5 48 GB/s
// per direction), 1.0 us per link (NCCL's PCIe hop, LL); a root complex
// joins its CPU by a MEMORY link sized to its ports' raw rate (never the
// bottleneck, as in the shipped files); NVLinks 0.6 us direct, 0.3 us per
// link through an NVSwitch; the CPU interconnect at hardware.md's figure
// for the vendor (Intel Skylake-class 10 GB/s, AMD Zen1/2 16 GB/s), 1.0 us.
//
// P2P: the topology's nccl.p2p comes from the log where it says. A
// `topo -p2p` matrix with no GPU pair OK gives P2P_OFF (NCCL then uses SHM,
// as the 2080 Ti log shows); without one, a GeForce model without NVLink
// gives P2P_OFF (hardware.md: no PCIe P2P with the stock driver). Else
// P2P_AUTO, NCCL's rule (transport.h): PIX/PXB and NV# pairs P2P, PHB,
// NODE and SYS pairs SHM on Intel hosts; P2P on AMD hosts.
//
// Nodes are named gpu<i> (i from GPU<i>), nic<j>, cpu<s>, rc<r>, sw<k>,
// nvsw<c>, with "n<host>-" in front when the host index is not 0. The
// infrastructure nodes come first in the file so that the engine's
// fewest-links routes, which break ties by file order, prefer NVSwitch
// and PCIe switches over a detour through another GPU.
#ifndef EPSIM_SIM_TOPOLOGY_SMI_TOPO_H_
#define EPSIM_SIM_TOPOLOGY_SMI_TOPO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/topology.pb.h"

namespace epsim::topology {

// One cell of the matrix: how nvidia-smi says two devices are joined,
// nearest first (kSelf is the diagonal).
enum class SmiLink { kSelf, kNvlink, kPix, kPxb, kPhb, kNode, kSys };

struct SmiRelation {
  SmiLink link = SmiLink::kSys;
  int nvlinks = 0;  // kNvlink only: the # of NV#, 1..18
  bool operator==(const SmiRelation&) const = default;
};
// "X", "SYS", ..., "NV12": the cell as nvidia-smi prints it.
std::string SmiRelationName(const SmiRelation& relation);

struct SmiDevice {
  enum class Kind { kGpu, kNic };
  Kind kind = Kind::kGpu;
  std::string name;           // as the matrix names it: "GPU0", "NIC1", "mlx5_0"
  int index = 0;              // GPU<i>: i; NICs: 0, 1, ... in header order
  std::string nic_device;     // NICs: "mlx5_0" from the NIC legend (or the name)
  std::string cpu_affinity;   // "24-47,72-95" or "N/A"; empty when not printed
  std::string numa_affinity;  // "1" or "N/A"; empty when not printed
  std::string gpu_numa_id;    // "N/A" mostly; empty when not printed
  int line = 0;               // line of its row in the file (1-based)
};

// The matrix of one `nvidia-smi topo -m` and what the log says beside it.
struct SmiMatrix {
  std::string file;
  int header_line = 0;               // 1-based
  std::vector<std::string> lines;    // header and rows as read (ANSI codes removed)
  std::vector<SmiDevice> devices;    // GPUs (in index order), then NICs
  std::vector<std::vector<SmiRelation>> relations;  // [a][b], symmetric
  // A `nvidia-smi topo -p2p <cap>` matrix of the same GPUs: p2p[a][b] is
  // "X", "OK", "NS", ...; empty when the log has none.
  std::vector<std::vector<std::string>> p2p;
  int p2p_line = 0;
  // The GPU model when the log names exactly one ("NVIDIA GeForce RTX 2080
  // Ti"), with the line naming it first; empty otherwise.
  std::string gpu_model;
  int gpu_model_line = 0;

  int num_gpus() const;
  const SmiRelation& Relation(int a, int b) const { return relations[a][b]; }
};

// Finds the first `nvidia-smi topo -m` matrix in `text` (a whole log) and
// reads it. BadInput "file:line: ..." for: no matrix, an unknown column or
// cell value, a row with the wrong number of cells, a missing or extra
// row, X off the diagonal or not on it, NV# with a NIC, an asymmetric
// matrix, a malformed affinity, a NIC legend naming no NIC of the matrix,
// and the same for the `topo -p2p` matrix when there is one.
Result<SmiMatrix> ParseSmiTopo(const std::string& text, const std::string& file);

// The NVLink figure used when none is given: A100's ~20 GB/s effective per
// link (hardware.md: 12 links ~230 GB/s, NCCL maintainer).
inline constexpr double kSmiNvlinkGbPerS = 20;

struct SmiOptions {
  proto::GpuSpec gpu;         // the compute spec of every GPU (required)
  std::string name;           // topology name; empty: "smi-" + the file's stem
  int pcie_gen = 4;           // 3, 4 or 5: the PCIe figure when pcie_gb_per_s is 0
  double pcie_gb_per_s = 0;   // per direction, every PCIe link; 0: NCCL's x16 rating
  double nvlink_gb_per_s = kSmiNvlinkGbPerS;  // per NVLink, per direction
  proto::CpuVendor cpu_vendor = proto::INTEL;
  double cpu_link_gb_per_s = 0;  // CPU interconnect; 0: hardware.md's for the vendor
  uint32_t host = 0;             // Node.host of every node
  std::optional<proto::P2pPolicy> p2p;  // unset: from the log (see above)
};

// The topology the matrix describes (mapping above). It passes
// ValidateTopology. BadInput (file:line) when the cells are not the levels
// of one PCIe tree or an NVLink group is neither direct nor NVSwitch-like;
// BadInput for impossible options. `notes`, when given, receives one line
// per inference a reader should know about (affinity disagreeing with the
// matrix, the P2P policy and why, an inferred NVSwitch).
Result<proto::Topology> TopologyFromSmi(const SmiMatrix& matrix, const SmiOptions& options,
                                        std::vector<std::string>* notes = nullptr);

// What `nvidia-smi topo -m` would print for the GPUs and NICs of `host` in
// `topo`: devices GPU<i> (GPU nodes in file order), then NIC<j>; relations
// only (no affinity). A pair joined by one NVLINK link, or by NVLINK links
// through one NVSWITCH node, is NV# with # = bottleneck / nvlink_gb_per_s
// rounded; any other pair gets the PCIe relation of its fewest-links route
// over PCIe, MEMORY and CPU_INTERCONNECT links through switches, root
// complexes and CPUs only: SYS when it crosses a CPU interconnect (or two
// CPUs), NODE when it passes a CPU and a root complex, PHB when it passes a
// root complex or a CPU, PXB when two or more PCIe switches, else PIX. A
// pair with no such route (files that leave the host side out) is SYS.
SmiMatrix RelationsOf(const proto::Topology& topo, double nvlink_gb_per_s = kSmiNvlinkGbPerS,
                      uint32_t host = 0);

// The `#` comment block a written topology file opens with: the proto-file
// lines, `written_by` (one line), the matrix as read, the PCIe tree built
// from it and the notes.
std::string SmiTopologyHeader(const SmiMatrix& matrix, const proto::Topology& topo,
                              const std::vector<std::string>& notes,
                              const std::string& written_by);

// The GPU spec of the first topology file in `dir` (file name order) whose
// gpu.name is `model`, ignoring case and everything but letters and digits
// ("NVIDIA A100-SXM4-80GB" matches "NVIDIA A100 SXM4 80GB"); `from` gets
// that file's path. NotFound when none matches.
Result<proto::GpuSpec> FindGpuSpec(const std::string& dir, const std::string& model,
                                   std::string* from = nullptr);
// FindGpuSpec in <dir>/topologies of each directory of the data search path
// (sim/base/data_paths.h) in turn; NotFound naming them all.
Result<proto::GpuSpec> FindDataGpuSpec(const std::string& model, std::string* from = nullptr);

}  // namespace epsim::topology

#endif  // EPSIM_SIM_TOPOLOGY_SMI_TOPO_H_
