#include "sim/topology/roofline.h"

#include <algorithm>

namespace epsim::topology {

double KernelTimeS(const proto::GpuSpec& gpu, const proto::Kernel& k) {
  double compute_s = k.flops() / (gpu.peak_flops() * gpu.compute_efficiency());
  double memory_s = k.bytes() / (gpu.mem_bw_gb_per_s() * 1e9 * gpu.memory_efficiency());
  return std::max(compute_s, memory_s) + gpu.launch_us() * 1e-6;
}

double WorkTimeS(const proto::GpuSpec& gpu, const proto::RankWork& work) {
  double time_s = 0;
  for (const proto::Kernel& k : work.kernels()) time_s += KernelTimeS(gpu, k);
  return time_s;
}

}  // namespace epsim::topology
