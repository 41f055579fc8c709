// How bytes move between two ranks of a topology, as the engine models it:
// NCCL between GPUs, MPI through shared memory between CPU processes of one
// host (epsim-hw's host backend). Pure protobuf: no SimGrid here (the
// engine, `epsim topo show` and the tests share it).
//
// Per ordered rank pair the model picks a transport:
//  - NET: the ranks are on different hosts (Node.host). The route leaves the
//    source host through its NIC nearest to the destination rank's nearest
//    NIC (fewest links; ties to the NIC nearest the source, then file order)
//    and enters through that destination NIC: on a rail-optimised fabric the
//    destination's rail, reached over NVLink through the source node's GPU
//    on that rail, as NCCL's PXN does. GPUDirect RDMA is assumed (no staging
//    in host memory). Hosts without NICs use the plain topology route. A
//    process's nearest NIC is its CPU's (a process hangs off its CPU only).
//  - P2P: peer-to-peer over the topology route. Under P2P_AUTO (NCCL's
//    rule, ../shared/reference/hardware.md): always over an all-NVLink
//    route; over PCIe only where NCCL allows it, i.e. on Intel hosts only if
//    the route passes no root complex and no CPU (PCIe switches only, NCCL
//    path type PXB or better), on AMD hosts on any PCIe route; never over
//    PCIe for GPUs without PCIe P2P (GeForce with the stock driver:
//    GpuHasPcieP2p). A P2P route through a root complex or CPU also
//    passes each CPU's P2P forwarding resource (Component.p2p_gb_per_s,
//    when set: a shared resource of the socket, like its memory).
//  - SHM between GPUs: through host memory, NCCL's fallback. The route goes
//    from the source GPU up to its home CPU (the nearest CPU node on its
//    host), through that socket's memory, and from there to the destination
//    GPU: each byte crosses PCIe twice and is written to and read from host memory (a
//    SHARED host-memory resource of the socket's memory_gb_per_s, which
//    each SHM byte loads twice).
//  - SHM between PROCESS ranks of one host, whatever the P2P policy (MPI
//    between processes of a host moves bytes through host memory): process
//    -> its home CPU over its MEMORY link -> that socket's host memory ->
//    CPU (over the socket interconnect when the destination's home CPU is
//    another socket) -> destination process. No PCIe: path class kMemory,
//    charged extra_hop_memory_us twice (a write and a read).
// For GPU pairs, P2P_ON makes every intra-host pair P2P, P2P_OFF every
// intra-host pair SHM (as NCCL_P2P_DISABLE=1 does, NVLink pairs included).
//
// Per message, the protocol is the first of NcclModel.protocols whose
// max_bytes holds the message (topology.proto gives the time formula).
#ifndef EPSIM_SIM_TOPOLOGY_TRANSPORT_H_
#define EPSIM_SIM_TOPOLOGY_TRANSPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/topology.pb.h"

namespace epsim::topology {

enum class Transport { kP2p, kShm, kNet };
const char* TransportName(Transport t);  // "P2P", "SHM", "NET"

// Whether GPUs of this model do PCIe peer-to-peer at all (GpuSpec.pcie_p2p;
// unspecified: not for GeForce or TITAN names, NVIDIA's stock driver).
// Under P2P_AUTO a PCIe pair of such GPUs uses SHM whatever the CPU vendor.
bool GpuHasPcieP2p(const proto::GpuSpec& gpu);

// Parses "auto", "on", "off" (the --p2p flag). Usage otherwise (a flag value).
Result<proto::P2pPolicy> ParseP2pPolicy(const std::string& text);
const char* P2pPolicyName(proto::P2pPolicy policy);  // "auto", "on", "off"

// topo.nccl() with every unset field at its default.
proto::NcclModel EffectiveNccl(const proto::Topology& topo);

// BadInput naming the field when topo.nccl() or the CPU nodes' fields are
// impossible: protocol names empty, efficiencies outside (0, 1], negative
// latencies, max_bytes not increasing or a last protocol with max_bytes != 0,
// negative memory bandwidths, cpu_vendor or memory_gb_per_s on a non-CPU node.
Status ValidateNccl(const proto::Topology& topo);

// One step of a route.
struct Hop {
  int link = -1;         // index into topo.links(); -1 for host memory or P2P forwarding
  bool forward = true;   // crossed from link.a() to link.b()
  int memory_cpu = -1;   // host memory: node index of the CPU whose memory
  int p2p_cpu = -1;      // P2P forwarded through this CPU node (its p2p_gb_per_s)
};

struct PairRoute {
  Transport transport = Transport::kP2p;
  std::string why;             // one line: why this transport
  std::vector<Hop> hops;
  double link_latency_us = 0;  // sum of the route's link latencies
  // Which extra_hop_* the protocol adds, and how many times.
  // kMemory: between processes of one host, through host memory only.
  enum class PathClass { kNvlink, kPcie, kNetwork, kMemory } path_class = PathClass::kPcie;
  int extra_hops = 1;          // 2 for SHM (GPU or process pairs)
  double bottleneck_gb_per_s = 0;  // smallest bandwidth on the route (memory: its half)
};

// Routes and transports of every ordered rank pair, built once per run.
class TransportTable {
 public:
  // `topo` must pass ValidateTopology; ValidateNccl is checked here.
  // BadInput when a pair needs SHM and a rank has no CPU node on its host.
  static Result<TransportTable> Build(const proto::Topology& topo, proto::P2pPolicy policy);

  int num_ranks() const { return num_ranks_; }
  proto::ComponentKind rank_kind() const { return rank_kind_; }  // GPU or PROCESS
  proto::P2pPolicy policy() const { return policy_; }
  const proto::NcclModel& nccl() const { return nccl_; }
  // Ranks, not node indices. Undefined for src == dst.
  const PairRoute& Pair(int src, int dst) const { return pairs_[size_t(src) * num_ranks_ + dst]; }
  // Host-memory bandwidth (GB/s, reads plus writes) of CPU node `cpu`.
  double MemoryGbPerS(int cpu) const;

  const proto::NcclProtocol& ProtocolFor(uint64_t bytes) const;
  // Time before the first byte of a `bytes` message from src to dst moves:
  // the protocol's base latency (unless `with_base` is false: a pipelined
  // step, schedule.proto Phase.pipelined), its extra hops and the route's
  // link latency.
  double MessageLatencyUs(int src, int dst, uint64_t bytes, bool with_base = true) const;
  // Bytes the links carry for a `bytes` message from src to dst: bytes /
  // payload_efficiency, and / shm_efficiency for an SHM pair.
  double WireBytes(int src, int dst, uint64_t bytes) const;
  // Closed form of a lone message: latency + wire bytes / bottleneck.
  double LoneMessageUs(int src, int dst, uint64_t bytes) const;

  // How many ordered pairs use each transport.
  int Count(Transport t) const;

 private:
  // Fills the route's latency and bottleneck; network links make it kNetwork.
  void AddTotals(PairRoute* pair) const;

  const proto::Topology* topo_ = nullptr;
  proto::NcclModel nccl_;
  proto::P2pPolicy policy_ = proto::P2P_AUTO;
  int num_ranks_ = 0;
  proto::ComponentKind rank_kind_ = proto::GPU;
  std::vector<PairRoute> pairs_;
};

}  // namespace epsim::topology

#endif  // EPSIM_SIM_TOPOLOGY_TRANSPORT_H_
