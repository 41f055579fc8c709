// Roofline time of one kernel on a rank (no SimGrid here): a GPU's, or for a
// PROCESS rank one CPU core's figures (topology.proto: GpuSpec).
//
// A kernel is bound either by arithmetic or by device-memory traffic; the
// achieved fraction of each datasheet peak is a parameter of the GpuSpec,
// and every kernel pays a fixed launch cost:
//   time_s = max(flops / (peak_flops * compute_efficiency),
//                bytes / (mem_bw_gb_per_s * 1e9 * memory_efficiency))
//            + launch_us * 1e-6
#ifndef EPSIM_SIM_TOPOLOGY_ROOFLINE_H_
#define EPSIM_SIM_TOPOLOGY_ROOFLINE_H_

#include "sim/proto/schedule.pb.h"
#include "sim/proto/topology.pb.h"

namespace epsim::topology {

// Seconds `k` takes on `gpu`. Requires a validated GpuSpec (ValidateTopology).
double KernelTimeS(const proto::GpuSpec& gpu, const proto::Kernel& k);

// Sum of KernelTimeS over `work`'s kernels: they run back to back on one rank.
double WorkTimeS(const proto::GpuSpec& gpu, const proto::RankWork& work);

}  // namespace epsim::topology

#endif  // EPSIM_SIM_TOPOLOGY_ROOFLINE_H_
