#include "sim/topology/roofline.h"

#include <algorithm>

namespace epsim::topology {

bool IsGemmKernel(const proto::Kernel& k) {
  return k.op() == proto::SWIGLU_FFN || k.op() == proto::ROUTER ||
         k.op() == proto::ATTENTION_BLOCK;
}

double GemmEfficiency(const proto::GpuSpec& gpu, const proto::Kernel& k) {
  if (!IsGemmKernel(k) || gpu.gemm_half_rows() <= 0 || k.rows() == 0)
    return gpu.compute_efficiency();
  const double rows = static_cast<double>(k.rows());
  return gpu.compute_efficiency() * rows / (rows + gpu.gemm_half_rows());
}

double RowCostS(const proto::GpuSpec& gpu, const proto::Kernel& k) {
  const double rows = static_cast<double>(k.rows());
  if (k.op() == proto::COPY_ROWS) return rows * gpu.permute_row_ns() * 1e-9;
  if (k.op() == proto::WEIGHTED_REDUCE) return rows * gpu.reduce_row_ns() * 1e-9;
  if (k.op() == proto::SWIGLU_FFN) return rows * gpu.ffn_row_ns() * 1e-9;
  return 0;
}

double KernelTimeS(const proto::GpuSpec& gpu, const proto::Kernel& k) {
  double compute_s = k.flops() / (gpu.peak_flops() * GemmEfficiency(gpu, k));
  double memory_s = k.bytes() / (gpu.mem_bw_gb_per_s() * 1e9 * gpu.memory_efficiency());
  return std::max(compute_s, memory_s) + gpu.launch_us() * 1e-6 + RowCostS(gpu, k);
}

double WorkTimeS(const proto::GpuSpec& gpu, const proto::RankWork& work) {
  double time_s = 0;
  for (const proto::Kernel& k : work.kernels()) time_s += KernelTimeS(gpu, k);
  return time_s;
}

}  // namespace epsim::topology
