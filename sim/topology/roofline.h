// Roofline time of one kernel on a rank (no SimGrid here): a GPU's, or for a
// PROCESS rank one CPU core's figures (topology.proto: GpuSpec).
//
// A kernel is bound either by arithmetic or by device-memory traffic; the
// achieved fraction of each datasheet peak is a parameter of the GpuSpec,
// every kernel pays a fixed launch cost, and row gathers and reduces a cost
// per row:
//   time_s = max(flops / (peak_flops * GemmEfficiency(gpu, k)),
//                bytes / (mem_bw_gb_per_s * 1e9 * memory_efficiency))
//            + launch_us * 1e-6 + RowCostS(gpu, k)
// GEMM efficiency saturates with the GEMM's M (rows): compute_efficiency *
// rows / (rows + gemm_half_rows), i.e. a GEMM of M rows costs as much as
// one of M + gemm_half_rows rows at full efficiency: a fixed cost per GEMM
// proportional to its weights (loading and packing them), which is what
// makes small expert batches slow.
#ifndef EPSIM_SIM_TOPOLOGY_ROOFLINE_H_
#define EPSIM_SIM_TOPOLOGY_ROOFLINE_H_

#include "sim/proto/schedule.pb.h"
#include "sim/proto/topology.pb.h"

namespace epsim::topology {

// The GEMM kernels (expert FFN, router, attention), whose efficiency
// depends on rows.
bool IsGemmKernel(const proto::Kernel& k);
// Achieved fraction of peak_flops for `k`: compute_efficiency, scaled by
// rows / (rows + gemm_half_rows) for GEMM kernels when gemm_half_rows > 0.
double GemmEfficiency(const proto::GpuSpec& gpu, const proto::Kernel& k);
// Per-row seconds: rows * permute_row_ns for COPY_ROWS, rows *
// reduce_row_ns for WEIGHTED_REDUCE (input rows), rows * ffn_row_ns for
// SWIGLU_FFN, else 0.
double RowCostS(const proto::GpuSpec& gpu, const proto::Kernel& k);
// Seconds `k` takes on `gpu`. Requires a validated GpuSpec (ValidateTopology).
double KernelTimeS(const proto::GpuSpec& gpu, const proto::Kernel& k);

// Sum of KernelTimeS over `work`'s kernels: they run back to back on one rank.
double WorkTimeS(const proto::GpuSpec& gpu, const proto::RankWork& work);

}  // namespace epsim::topology

#endif  // EPSIM_SIM_TOPOLOGY_ROOFLINE_H_
