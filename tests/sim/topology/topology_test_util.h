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

inline void AddNode(proto::Topology* topo, const std::string& name, proto::NodeKind kind) {
  proto::Node* node = topo->add_nodes();
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
