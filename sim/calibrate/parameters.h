// The named model parameters `epsim calibrate` may fit, each read from and
// written to a proto::Topology: the rank's compute model (GpuSpec), link
// bandwidths and latencies by link kind, host memory, and the NCCL/MPI
// protocol figures (NcclModel). No SimGrid here.
//
// Names (units in each Parameter):
//   gpu.peak_flops           PROCESS ranks: the core's GEMM rate (FLOP/s)
//   gpu.compute_efficiency   GPU ranks: achieved / peak for large GEMMs
//   gpu.gemm_half_rows       rows at which a GEMM reaches half of it
//   gpu.launch_us            fixed cost per kernel
//   gpu.mem_bw_gb_per_s      PROCESS ranks: streaming bandwidth (GB/s)
//   gpu.memory_efficiency    GPU ranks: achieved / peak streaming
//   gpu.permute_row_ns       per row gathered (COPY_ROWS)
//   gpu.reduce_row_ns        per input row (WEIGHTED_REDUCE)
//   gpu.ffn_row_ns           per row of an expert FFN beyond its GEMMs
//   links.KIND.bw_gb_per_s   every link of KIND (PCIE, NVLINK, ...), when
//                            they share one bandwidth; else
//   links.KIND.bw_scale      a factor on each such link's file bandwidth
//   links.KIND.latency_us    every link of KIND
//   cpu.memory_gb_per_s      every CPU socket's host memory (SHM)
//   cpu.p2p_gb_per_s         PCIe P2P through a socket, where a file sets it
//   nccl.shm_efficiency      what a lone SHM transfer gets of its route
//   nccl.PROTO.base_latency_us, nccl.PROTO.payload_efficiency,
//   nccl.PROTO.extra_hop_{nvlink,pcie,network,memory}_us   per protocol
//                            (LL, Simple, ... as EffectiveNccl lists them)
// Only the parameters that apply to a topology are listed for it (a
// NVLINK parameter needs an NVLink link, extra_hop_memory_us PROCESS ranks).
// Order: compute, bandwidths, protocol latencies, link latencies, protocol
// efficiencies and extra hops (of two with the same effect the first is
// fitted).
#ifndef EPSIM_SIM_CALIBRATE_PARAMETERS_H_
#define EPSIM_SIM_CALIBRATE_PARAMETERS_H_

#include <functional>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/topology.pb.h"

namespace epsim::calibrate {

struct Parameter {
  std::string name;
  std::string unit;     // "FLOP/s", "us", "GB/s", "rows", "ns", "" (a fraction)
  std::string meaning;  // one line
  double lower = 0, upper = 0;  // bounds of the fit
  double scale = 1;     // typical magnitude: the fit works on value / scale
  // Reads the value from, or writes it into, a topology the parameter
  // applies to (Set fills every unset NcclModel default first).
  std::function<double(const proto::Topology&)> get;
  std::function<void(proto::Topology*, double)> set;
};

// The parameters that apply to `topo` (a validated topology), in the order
// of the header comment's last paragraph.
std::vector<Parameter> ParametersOf(const proto::Topology& topo);

// The parameter called `name` among `params`; BadInput listing the valid
// names otherwise.
Result<const Parameter*> FindParameter(const std::vector<Parameter>& params,
                                       const std::string& name);

}  // namespace epsim::calibrate

#endif  // EPSIM_SIM_CALIBRATE_PARAMETERS_H_
