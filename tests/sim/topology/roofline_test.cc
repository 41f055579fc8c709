#include "sim/topology/roofline.h"

#include <gtest/gtest.h>

namespace epsim::topology {
namespace {

proto::GpuSpec A6000Like() {
  proto::GpuSpec gpu;
  gpu.set_peak_flops(154.8e12);
  gpu.set_mem_bw_gb_per_s(768);
  gpu.set_compute_efficiency(0.6);
  gpu.set_memory_efficiency(0.8);
  gpu.set_launch_us(5);
  return gpu;
}

proto::Kernel MakeKernel(double flops, double bytes) {
  proto::Kernel k;
  k.set_flops(flops);
  k.set_bytes(bytes);
  return k;
}

TEST(RooflineTest, ComputeBoundKernelTakesFlopsOverAchievedPeak) {
  // 4096^3 GEMM in BF16: 2 * 4096^3 flops, 3 * 4096^2 * 2 bytes.
  double flops = 2.0 * 4096 * 4096 * 4096, bytes = 3.0 * 4096 * 4096 * 2;
  double want_s = flops / (154.8e12 * 0.6) + 5e-6;  // 1.4797 ms + launch
  EXPECT_NEAR(KernelTimeS(A6000Like(), MakeKernel(flops, bytes)), want_s, want_s * 1e-12);
}

TEST(RooflineTest, MemoryBoundKernelTakesBytesOverAchievedBandwidth) {
  // Elementwise over 1 GB: 1e9 bytes, 1e8 flops.
  double want_s = 1e9 / (768e9 * 0.8) + 5e-6;  // 1.6276 ms + launch
  EXPECT_NEAR(KernelTimeS(A6000Like(), MakeKernel(1e8, 1e9)), want_s, want_s * 1e-12);
}

TEST(RooflineTest, EmptyKernelCostsTheLaunch) {
  EXPECT_DOUBLE_EQ(KernelTimeS(A6000Like(), MakeKernel(0, 0)), 5e-6);
}

TEST(RooflineTest, WorkSumsItsKernels) {
  proto::RankWork work;
  *work.add_kernels() = MakeKernel(0, 0);
  *work.add_kernels() = MakeKernel(1e8, 1e9);
  EXPECT_NEAR(WorkTimeS(A6000Like(), work), 5e-6 + 1e9 / (768e9 * 0.8) + 5e-6, 1e-15);
}

TEST(RooflineTest, GemmEfficiencySaturatesWithRows) {
  proto::GpuSpec gpu = A6000Like();
  gpu.set_gemm_half_rows(32);
  proto::Kernel k = MakeKernel(1e12, 0);
  k.set_op(proto::SWIGLU_FFN);
  k.set_rows(32);  // half of 0.6
  EXPECT_DOUBLE_EQ(GemmEfficiency(gpu, k), 0.3);
  EXPECT_NEAR(KernelTimeS(gpu, k), 1e12 / (154.8e12 * 0.3) + 5e-6, 1e-15);
  k.set_rows(96);
  EXPECT_DOUBLE_EQ(GemmEfficiency(gpu, k), 0.6 * 96 / 128);
  // Not a GEMM: shape-independent.
  k.set_op(proto::COPY_ROWS);
  EXPECT_DOUBLE_EQ(GemmEfficiency(gpu, k), 0.6);
  // Off by default.
  k.set_op(proto::ROUTER);
  EXPECT_DOUBLE_EQ(GemmEfficiency(A6000Like(), k), 0.6);
}

TEST(RooflineTest, RowCostsArePerRowOfPermuteAndReduce) {
  proto::GpuSpec gpu = A6000Like();
  gpu.set_permute_row_ns(200);
  gpu.set_reduce_row_ns(300);
  proto::Kernel k = MakeKernel(0, 0);
  k.set_rows(1000);
  k.set_op(proto::COPY_ROWS);
  EXPECT_NEAR(KernelTimeS(gpu, k), 5e-6 + 1000 * 200e-9, 1e-15);
  k.set_op(proto::WEIGHTED_REDUCE);
  k.set_out_rows(250);  // charged per input row
  EXPECT_NEAR(KernelTimeS(gpu, k), 5e-6 + 1000 * 300e-9, 1e-15);
  k.set_op(proto::SWIGLU_FFN);
  EXPECT_DOUBLE_EQ(RowCostS(gpu, k), 0);
  gpu.set_ffn_row_ns(50);
  EXPECT_NEAR(RowCostS(gpu, k), 1000 * 50e-9, 1e-18);
  k.set_op(proto::ROUTER);
  EXPECT_DOUBLE_EQ(RowCostS(gpu, k), 0);
}

}  // namespace
}  // namespace epsim::topology
