// Builders for small hand-checkable topologies and schedules (topology, engine and executor tests).
#ifndef EPSIM_TESTS_SIM_TOPOLOGY_TOPOLOGY_TEST_UTIL_H_
#define EPSIM_TESTS_SIM_TOPOLOGY_TOPOLOGY_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/proto/schedule.pb.h"
#include "sim/proto/topology.pb.h"

namespace epsim::testing {

// A GPU whose kernels take exactly flops / 1e12 seconds (no launch cost).
inline proto::GpuSpec UnitGpu() {
  proto::GpuSpec gpu;
  gpu.set_name("unit");
  gpu.set_peak_flops(1e12);
  gpu.set_mem_bw_gb_per_s(1000);
  gpu.set_compute_efficiency(1);
  gpu.set_memory_efficiency(1);
  gpu.set_launch_us(0);
  return gpu;
}

inline void AddNode(proto::Topology* topo, const std::string& name, proto::ComponentKind kind) {
  proto::Component* node = topo->add_nodes();
  node->set_name(name);
  node->set_kind(kind);
}

inline void AddLink(proto::Topology* topo, const std::string& a, const std::string& b,
                    double bw_gb_per_s, double latency_us, proto::Duplex duplex = proto::FULL) {
  proto::Link* link = topo->add_links();
  link->set_name(a + "-" + b);
  link->set_a(a);
  link->set_b(b);
  link->set_bw_gb_per_s(bw_gb_per_s);
  link->set_latency_us(latency_us);
  link->set_duplex(duplex);
}

// The raw network under the NCCL model: one protocol with no latency of its
// own and full efficiency, every intra-host pair peer-to-peer, no window.
// A lone transfer then takes exactly (sum of link latencies) + bytes / bw.
inline void BareNccl(proto::Topology* topo) {
  proto::NcclModel* nccl = topo->mutable_nccl();
  nccl->clear_protocols();
  proto::NcclProtocol* p = nccl->add_protocols();
  p->set_name("bare");
  p->set_payload_efficiency(1);
  nccl->set_p2p(proto::P2P_ON);
  nccl->set_max_peers_in_flight(0);
}

// GPUs "gpu0".."gpu<n-1>" each joined to router "switch" by one link.
inline proto::Topology Star(int n, double bw_gb_per_s, double latency_us) {
  proto::Topology topo;
  topo.set_name("star");
  *topo.mutable_gpu() = UnitGpu();
  AddNode(&topo, "switch", proto::NVSWITCH);
  for (int i = 0; i < n; ++i) {
    AddNode(&topo, "gpu" + std::to_string(i), proto::GPU);
    AddLink(&topo, "gpu" + std::to_string(i), "switch", bw_gb_per_s, latency_us);
  }
  BareNccl(&topo);
  return topo;
}

// One host backend box: CPU socket "cpu0" (host memory `memory_gb_per_s`)
// and PROCESS ranks "proc0".."proc<n-1>", each joined to cpu0 by a MEMORY
// link "proc<i>-cpu0" of `link_gb_per_s` per direction and `latency_us`.
// The compute spec is UnitGpu() (one core at 1e12 FLOP/s).
inline proto::Topology ProcessHost(int n, double link_gb_per_s, double latency_us,
                                   double memory_gb_per_s) {
  proto::Topology topo;
  topo.set_name("procs");
  *topo.mutable_gpu() = UnitGpu();
  AddNode(&topo, "cpu0", proto::CPU);
  topo.mutable_nodes(0)->set_memory_gb_per_s(memory_gb_per_s);
  for (int i = 0; i < n; ++i) {
    AddNode(&topo, "proc" + std::to_string(i), proto::PROCESS);
    AddLink(&topo, "proc" + std::to_string(i), "cpu0", link_gb_per_s, latency_us);
    topo.mutable_links(i)->set_kind(proto::MEMORY);
  }
  return topo;
}

// One protocol for every size: `base_us` per message, payload efficiency
// `efficiency`, `memory_hop_us` per host-memory hop (the other path kinds'
// extras are 100 us, so a wrong path class shows); P2P on (PROCESS pairs of
// a host must stay SHM anyway) and no window.
inline void ProcessNccl(proto::Topology* topo, double base_us, double efficiency,
                        double memory_hop_us) {
  proto::NcclModel* nccl = topo->mutable_nccl();
  nccl->clear_protocols();
  proto::NcclProtocol* p = nccl->add_protocols();
  p->set_name("mpi");
  p->set_base_latency_us(base_us);
  p->set_payload_efficiency(efficiency);
  p->set_extra_hop_nvlink_us(100);
  p->set_extra_hop_pcie_us(100);
  p->set_extra_hop_network_us(100);
  p->set_extra_hop_memory_us(memory_hop_us);
  nccl->set_p2p(proto::P2P_ON);
  nccl->set_max_peers_in_flight(0);
}

inline proto::Schedule EmptySchedule(uint32_t num_ranks) {
  proto::Schedule schedule;
  schedule.set_model("test-model");
  schedule.set_strategy("test-strategy");
  schedule.set_placement("test-placement");
  schedule.set_num_ranks(num_ranks);
  return schedule;
}

// Appends an all-to-all with send_bytes [src][dst] (row-major) and one row
// per 1000 bytes.
inline void AddAllToAll(proto::Schedule* schedule, const std::vector<uint64_t>& send_bytes,
                        const std::vector<uint32_t>& depends_on = {}) {
  proto::Phase* phase = schedule->add_phases();
  phase->set_id(schedule->phases_size() - 1);
  phase->set_kind(proto::DISPATCH);
  for (uint32_t dep : depends_on) phase->add_depends_on(dep);
  for (uint64_t bytes : send_bytes) {
    phase->add_send_bytes(bytes);
    phase->add_send_rows(bytes / 1000);
  }
}

// Appends a compute phase: rank r runs one kernel of time_us[r] on UnitGpu().
inline void AddCompute(proto::Schedule* schedule, const std::vector<double>& time_us,
                       const std::vector<uint32_t>& depends_on = {}) {
  proto::Phase* phase = schedule->add_phases();
  phase->set_id(schedule->phases_size() - 1);
  phase->set_kind(proto::EXPERT);
  for (uint32_t dep : depends_on) phase->add_depends_on(dep);
  for (double us : time_us) {
    proto::Kernel* kernel = phase->add_work()->add_kernels();
    kernel->set_name("gemm");
    kernel->set_flops(us * 1e6);  // 1e12 FLOP/s
  }
}

// n x n send matrix with `bytes` off the diagonal.
inline std::vector<uint64_t> Uniform(uint32_t n, uint64_t bytes) {
  std::vector<uint64_t> send(n * n, bytes);
  for (uint32_t r = 0; r < n; ++r) send[r * n + r] = 0;
  return send;
}

}  // namespace epsim::testing

#endif  // EPSIM_TESTS_SIM_TOPOLOGY_TOPOLOGY_TEST_UTIL_H_
