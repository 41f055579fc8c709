// CudaCompute's kernels and GEMMs. Before a launch every handle and size
// is checked on the host against what the handle's upload recorded, so a
// wrong index becomes a Status naming it instead of an illegal address that
// kills the CUDA context.
#include <cuda_bf16.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "hw/cuda/cuda_check.h"
#include "hw/cuda/cuda_compute.h"
#include "hw/cuda/kernels.cuh"

namespace epsim::hw {
namespace {

constexpr size_t kReduceHeaderBytes = 64;
static_assert(sizeof(ReduceSpecDevice) <= kReduceHeaderBytes);
// cuBLAS is fastest on 256-byte aligned operands.
constexpr size_t kAlign = 256;

size_t AlignUp(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

std::vector<uint32_t> PrefixMax(std::span<const uint32_t> values) {
  std::vector<uint32_t> out(values.size());
  uint32_t m = 0;
  for (size_t i = 0; i < values.size(); ++i) out[i] = m = std::max(m, values[i]);
  return out;
}

// Rows of `hidden` elements of `t` that `b` holds.
size_t RowsIn(const Buffer& b, size_t hidden, DType t) {
  return b.bytes / (hidden * DTypeBytes(t));
}

std::string N(size_t v) { return std::to_string(v); }

}  // namespace

Status CheckReduceSpec(const ReduceSpec& spec) {
  const size_t n_out = spec.num_out();
  if (spec.offsets.size() != n_out + 1) {
    return Status::BadInput("reduce spec: " + N(spec.offsets.size()) +
                            " offsets for " + N(n_out) + " outputs (want num_out + 1)");
  }
  if (spec.offsets[0] != 0) return Status::BadInput("reduce spec: offsets[0] is not 0");
  for (size_t o = 0; o < n_out; ++o) {
    if (spec.offsets[o + 1] < spec.offsets[o]) {
      return Status::BadInput("reduce spec: offsets decrease at output " + N(o));
    }
  }
  if (spec.offsets[n_out] != spec.idx.size() || spec.coef.size() != spec.idx.size()) {
    return Status::BadInput("reduce spec: offsets end at " + N(spec.offsets[n_out]) + " with " +
                            N(spec.idx.size()) + " idx and " + N(spec.coef.size()) + " coef");
  }
  return Status::Ok();
}

std::vector<uint8_t> PackReduceSpec(const ReduceSpec& spec, uintptr_t device_base) {
  const size_t n_out = spec.num_out(), terms = spec.idx.size();
  const size_t at_offsets = kReduceHeaderBytes;
  const size_t at_out_rows = at_offsets + (n_out + 1) * sizeof(uint32_t);
  const size_t at_idx = at_out_rows + n_out * sizeof(uint32_t);
  const size_t at_coef = at_idx + terms * sizeof(uint32_t);
  std::vector<uint8_t> bytes(at_coef + terms * sizeof(float));
  ReduceSpecDevice header;
  header.num_out = n_out;
  header.num_terms = terms;
  header.offsets = reinterpret_cast<const uint32_t*>(device_base + at_offsets);
  header.out_rows = reinterpret_cast<const uint32_t*>(device_base + at_out_rows);
  header.idx = reinterpret_cast<const uint32_t*>(device_base + at_idx);
  header.coef = reinterpret_cast<const float*>(device_base + at_coef);
  std::memcpy(bytes.data(), &header, sizeof header);
  std::memcpy(bytes.data() + at_offsets, spec.offsets.data(), (n_out + 1) * sizeof(uint32_t));
  std::memcpy(bytes.data() + at_out_rows, spec.out_rows.data(), n_out * sizeof(uint32_t));
  std::memcpy(bytes.data() + at_idx, spec.idx.data(), terms * sizeof(uint32_t));
  std::memcpy(bytes.data() + at_coef, spec.coef.data(), terms * sizeof(float));
  return bytes;
}

Result<Buffer> CudaCompute::UploadIndex(std::span<const uint32_t> idx) {
  EPSIM_ASSIGN_OR_RETURN(Buffer buffer, Alloc(idx.size_bytes()));
  EPSIM_RETURN_IF_ERROR(Upload(buffer, idx.data(), idx.size_bytes()));
  indices_[buffer.ptr] = IndexInfo{PrefixMax(idx)};
  return buffer;
}

Status CudaCompute::GatherRows(const Buffer& src, DType src_t, const Buffer& idx, size_t n,
                               size_t hidden, const Buffer& dst, DType dst_t) {
  const auto it = indices_.find(idx.ptr);
  if (it == indices_.end()) return Fail("GatherRows: idx is not a handle from UploadIndex");
  const std::vector<uint32_t>& prefix_max = it->second.prefix_max;
  if (n > prefix_max.size()) {
    return Fail("GatherRows: " + N(n) + " rows, index of " + N(prefix_max.size()));
  }
  if (n == 0 || hidden == 0) return Status::Ok();
  if (prefix_max[n - 1] >= RowsIn(src, hidden, src_t)) {
    return Fail("GatherRows: source row " + N(prefix_max[n - 1]) + " >= the source's " +
                N(RowsIn(src, hidden, src_t)) + " rows");
  }
  if (n > RowsIn(dst, hidden, dst_t)) {
    return Fail("GatherRows: " + N(n) + " rows into " + N(RowsIn(dst, hidden, dst_t)));
  }
  EPSIM_CUDA_CHECK(where_, LaunchGatherRows(src.ptr, src_t, static_cast<const uint32_t*>(idx.ptr),
                                            n, hidden, dst.ptr, dst_t, stream_));
  return Status::Ok();
}

Result<Buffer> CudaCompute::UploadReduce(const ReduceSpec& spec) {
  EPSIM_RETURN_IF_ERROR(CheckReduceSpec(spec).WithContext(where_));
  const size_t bytes = PackReduceSpec(spec, 0).size();
  EPSIM_ASSIGN_OR_RETURN(Buffer buffer, Alloc(bytes));
  const std::vector<uint8_t> image = PackReduceSpec(spec, reinterpret_cast<uintptr_t>(buffer.ptr));
  EPSIM_RETURN_IF_ERROR(Upload(buffer, image.data(), image.size()));
  reduces_[buffer.ptr] = ReduceInfo{spec.offsets, PrefixMax(spec.idx), PrefixMax(spec.out_rows)};
  return buffer;
}

Status CudaCompute::WeightedReduce(const Buffer& in, DType in_t, const Buffer& spec,
                                   size_t n_out, size_t hidden, const Buffer& out, DType out_t) {
  const auto it = reduces_.find(spec.ptr);
  if (it == reduces_.end()) return Fail("WeightedReduce: spec is not a handle from UploadReduce");
  const ReduceInfo& info = it->second;
  if (n_out > info.max_out_row.size()) {
    return Fail("WeightedReduce: " + N(n_out) + " outputs, spec has " + N(info.max_out_row.size()));
  }
  if (n_out == 0 || hidden == 0) return Status::Ok();
  const size_t terms = info.offsets[n_out];
  if (terms > 0 && info.max_in_row[terms - 1] >= RowsIn(in, hidden, in_t)) {
    return Fail("WeightedReduce: input row " + N(info.max_in_row[terms - 1]) + " >= the input's " +
                N(RowsIn(in, hidden, in_t)) + " rows");
  }
  if (info.max_out_row[n_out - 1] >= RowsIn(out, hidden, out_t)) {
    return Fail("WeightedReduce: output row " + N(info.max_out_row[n_out - 1]) +
                " >= the output's " + N(RowsIn(out, hidden, out_t)) + " rows");
  }
  EPSIM_CUDA_CHECK(where_, LaunchWeightedReduce(in.ptr, in_t,
                                                static_cast<const ReduceSpecDevice*>(spec.ptr),
                                                n_out, hidden, out.ptr, out_t, stream_));
  return Status::Ok();
}

Result<Buffer> CudaCompute::UploadFfn(std::span<const float> w_gate, std::span<const float> w_up,
                                      std::span<const float> w_down, size_t hidden,
                                      size_t width) {
  const size_t hw = hidden * width;
  if (hw == 0 || w_gate.size() != hw || w_up.size() != hw || w_down.size() != hw) {
    return Fail("UploadFfn: hidden " + N(hidden) + " x width " + N(width) + " with " +
                N(w_gate.size()) + "/" + N(w_up.size()) + "/" + N(w_down.size()) + " weights");
  }
  std::vector<__nv_bfloat16> host(3 * hw);
  for (size_t i = 0; i < hw; ++i) {
    host[i] = __float2bfloat16_rn(w_gate[i]);
    host[hw + i] = __float2bfloat16_rn(w_up[i]);
    host[2 * hw + i] = __float2bfloat16_rn(w_down[i]);
  }
  EPSIM_ASSIGN_OR_RETURN(Buffer buffer, Alloc(host.size() * sizeof(__nv_bfloat16)));
  EPSIM_RETURN_IF_ERROR(Upload(buffer, host.data(), buffer.bytes));
  ffns_[buffer.ptr] = FfnInfo{hidden, width};
  return buffer;
}

Status CudaCompute::SwigluFfn(const Buffer& ffn, const Buffer& x, size_t n,
                              const Buffer& scratch, const Buffer& y) {
  const auto it = ffns_.find(ffn.ptr);
  if (it == ffns_.end()) return Fail("SwigluFfn: ffn is not a handle from UploadFfn");
  const size_t hidden = it->second.hidden, width = it->second.width;
  if (n == 0) return Status::Ok();
  if (x.bytes < n * hidden * 4 || y.bytes < n * hidden * 4 || scratch.bytes < 2 * n * width * 4) {
    return Fail("SwigluFfn: " + N(n) + " rows of hidden " + N(hidden) + " width " + N(width) +
                " with x " + N(x.bytes) + " B, y " + N(y.bytes) + " B, scratch " +
                N(scratch.bytes) + " B");
  }
  const size_t x16_bytes = AlignUp(n * hidden * sizeof(__nv_bfloat16));
  EPSIM_ASSIGN_OR_RETURN(void* own, OwnScratch(x16_bytes + n * width * sizeof(__nv_bfloat16)));
  auto* x16 = static_cast<__nv_bfloat16*>(own);
  auto* h16 = reinterpret_cast<__nv_bfloat16*>(static_cast<char*>(own) + x16_bytes);
  const auto* w = static_cast<const __nv_bfloat16*>(ffn.ptr);
  float* gate = static_cast<float*>(scratch.ptr);
  float* up = gate + n * width;
  EPSIM_CUDA_CHECK(where_, LaunchF32ToBf16(static_cast<const float*>(x.ptr), n * hidden, x16,
                                           stream_));
  EPSIM_RETURN_IF_ERROR(RowMajorGemm(n, width, hidden, x16, w, gate, CUDA_R_32F));
  EPSIM_RETURN_IF_ERROR(RowMajorGemm(n, width, hidden, x16, w + hidden * width, up, CUDA_R_32F));
  EPSIM_CUDA_CHECK(where_, LaunchSiluMul(gate, up, n * width, h16, stream_));
  return RowMajorGemm(n, hidden, width, h16, w + 2 * hidden * width, y.ptr, CUDA_R_32F);
}

Status CudaCompute::SwigluFfnBackward(const Buffer& ffn, const Buffer& x, const Buffer& dy,
                                      const Buffer& saved, size_t n, const Buffer& scratch,
                                      const Buffer& dx, const Buffer& grad) {
  const auto it = ffns_.find(ffn.ptr);
  if (it == ffns_.end()) return Fail("SwigluFfnBackward: ffn is not a handle from UploadFfn");
  const size_t hidden = it->second.hidden, width = it->second.width;
  if (n == 0) return Status::Ok();
  const size_t rows_h = n * hidden * 4, rows_w = n * width * 4;
  if (x.bytes < rows_h || dy.bytes < rows_h || dx.bytes < rows_h || saved.bytes < 2 * rows_w ||
      scratch.bytes < 3 * rows_w || grad.bytes < 3 * hidden * width * 4) {
    return Fail("SwigluFfnBackward: " + N(n) + " rows of hidden " + N(hidden) + " width " +
                N(width) + " with x " + N(x.bytes) + " B, dy " + N(dy.bytes) + " B, dx " +
                N(dx.bytes) + " B, saved " + N(saved.bytes) + " B, scratch " +
                N(scratch.bytes) + " B, grad " + N(grad.bytes) + " B");
  }
  const size_t e = sizeof(__nv_bfloat16);
  const size_t h16 = AlignUp(n * hidden * e), w16 = AlignUp(n * width * e);
  EPSIM_ASSIGN_OR_RETURN(void* own, OwnScratch(2 * h16 + 3 * w16));
  auto* base = static_cast<char*>(own);
  auto* x16 = reinterpret_cast<__nv_bfloat16*>(base);
  auto* dy16 = reinterpret_cast<__nv_bfloat16*>(base + h16);
  auto* act16 = reinterpret_cast<__nv_bfloat16*>(base + 2 * h16);
  auto* da16 = reinterpret_cast<__nv_bfloat16*>(base + 2 * h16 + w16);
  auto* db16 = reinterpret_cast<__nv_bfloat16*>(base + 2 * h16 + 2 * w16);
  const auto* w = static_cast<const __nv_bfloat16*>(ffn.ptr);
  const __nv_bfloat16* wg = w;
  const __nv_bfloat16* wu = w + hidden * width;
  const __nv_bfloat16* wd = w + 2 * hidden * width;
  const float* a = static_cast<const float*>(saved.ptr);
  const float* b = a + n * width;
  float* dh = static_cast<float*>(scratch.ptr);
  auto* g = static_cast<float*>(grad.ptr);
  EPSIM_CUDA_CHECK(where_, LaunchF32ToBf16(static_cast<const float*>(x.ptr), n * hidden, x16,
                                           stream_));
  EPSIM_CUDA_CHECK(where_, LaunchF32ToBf16(static_cast<const float*>(dy.ptr), n * hidden, dy16,
                                           stream_));
  // dh = dy Wd^T: [n x h] by [h x w] (Wd stored [w x h]).
  EPSIM_RETURN_IF_ERROR(RowMajorGemmT(n, width, hidden, dy16, false, wd, true, dh, CUDA_R_32F, 0));
  EPSIM_CUDA_CHECK(where_, LaunchSiluMulBackward(a, b, dh, n * width, act16, da16, db16, stream_));
  // dWd = act^T dy: [w x n] by [n x h].
  EPSIM_RETURN_IF_ERROR(RowMajorGemmT(width, hidden, n, act16, true, dy16, false,
                                      g + 2 * hidden * width, CUDA_R_32F, 0));
  // dx = da Wg^T + db Wu^T: [n x w] by [w x h] (Wg, Wu stored [h x w]).
  EPSIM_RETURN_IF_ERROR(RowMajorGemmT(n, hidden, width, da16, false, wg, true, dx.ptr,
                                      CUDA_R_32F, 0));
  EPSIM_RETURN_IF_ERROR(RowMajorGemmT(n, hidden, width, db16, false, wu, true, dx.ptr,
                                      CUDA_R_32F, 1));
  // dWg = x^T da, dWu = x^T db: [h x n] by [n x w].
  EPSIM_RETURN_IF_ERROR(RowMajorGemmT(hidden, width, n, x16, true, da16, false, g, CUDA_R_32F, 0));
  return RowMajorGemmT(hidden, width, n, x16, true, db16, false, g + hidden * width, CUDA_R_32F,
                       0);
}

Status CudaCompute::Gemm(size_t m, size_t n, size_t k, const Buffer& a, const Buffer& b,
                         const Buffer& c) {
  if (m == 0 || n == 0 || k == 0) return Status::Ok();
  const size_t e = sizeof(__nv_bfloat16);
  if (a.bytes < m * k * e || b.bytes < k * n * e || c.bytes < m * n * e) {
    return Fail("Gemm " + N(m) + "x" + N(k) + " by " + N(k) + "x" + N(n) + " on buffers of " +
                N(a.bytes) + ", " + N(b.bytes) + ", " + N(c.bytes) + " B (bf16)");
  }
  return RowMajorGemm(m, n, k, a.ptr, b.ptr, c.ptr, CUDA_R_16BF);
}

// cuBLAS is column-major, and a row-major [r x c] matrix is the column-
// major [c x r] one with leading dimension c. So row-major C = A B is
// column-major C^T = B^T A^T: swap the operands, pass (n, m, k).
Status CudaCompute::RowMajorGemm(size_t m, size_t n, size_t k, const void* a, const void* b,
                                 void* c, cudaDataType_t c_type) {
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX) {
    return Fail("GEMM " + N(m) + "x" + N(n) + "x" + N(k) + " exceeds cuBLAS's int dimensions");
  }
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  const float alpha = 1.0f, beta = 0.0f;
  EPSIM_CUBLAS_CHECK(where_, cublasGemmEx(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, ni, mi, ki, &alpha,
                                          b, CUDA_R_16BF, ni, a, CUDA_R_16BF, ki, &beta, c,
                                          c_type, ni, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  return Status::Ok();
}

// The same trick with transposes: row-major op(A) stored as [m x k] (or
// [k x m] when transposed) is column-major [k x m] with leading dimension
// k (or [m x k] with m), and C^T = op(B)^T op(A)^T.
Status CudaCompute::RowMajorGemmT(size_t m, size_t n, size_t k, const void* a, bool trans_a,
                                  const void* b, bool trans_b, void* c, cudaDataType_t c_type,
                                  float beta) {
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX) {
    return Fail("GEMM " + N(m) + "x" + N(n) + "x" + N(k) + " exceeds cuBLAS's int dimensions");
  }
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  const float alpha = 1.0f;
  EPSIM_CUBLAS_CHECK(where_, cublasGemmEx(cublas_, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                          trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, ni, mi, ki, &alpha,
                                          b, CUDA_R_16BF, trans_b ? ki : ni, a, CUDA_R_16BF,
                                          trans_a ? mi : ki, &beta, c, c_type, ni,
                                          CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  return Status::Ok();
}

}  // namespace epsim::hw
