// The CUDA backend's own kernels: row gather with dtype conversion, the
// weighted row reduce of a ReduceSpec, FP32 -> BF16 conversion and the
// SwiGLU activation and its backward. GEMMs are cuBLAS's (cuda_compute.cc).
//
// Every launcher enqueues on `stream`, returns cudaGetLastError() (launch
// errors; faults inside a kernel surface at the next synchronizing call)
// and launches nothing when there is no work. Element types are FP32
// (float) or BF16 (__nv_bfloat16); arithmetic is FP32, BF16 results are
// rounded to nearest even. Rows are `hidden` elements, back to back.
// Declarations only: includable from host C++.
#ifndef EPSIM_HW_CUDA_KERNELS_CUH_
#define EPSIM_HW_CUDA_KERNELS_CUH_

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "hw/common/backend.h"

namespace epsim::hw {

// A ReduceSpec in device memory: this header, then its arrays, in one
// allocation (cuda_compute.cc packs it). Pointers are device addresses.
struct ReduceSpecDevice {
  uint64_t num_out = 0;            // outputs
  uint64_t num_terms = 0;          // offsets[num_out]
  const uint32_t* offsets = nullptr;   // num_out + 1
  const uint32_t* out_rows = nullptr;  // num_out
  const uint32_t* idx = nullptr;       // num_terms input rows
  const float* coef = nullptr;         // num_terms
};

// dst row i = src row idx[i], i < n.
cudaError_t LaunchGatherRows(const void* src, DType src_t, const uint32_t* idx, size_t n,
                             size_t hidden, void* dst, DType dst_t, cudaStream_t stream);

// out row spec->out_rows[o] = sum over j in [offsets[o], offsets[o + 1]) of
// coef[j] * in row idx[j], FP32 accumulate, o < n_out. Other output rows
// are left as they are.
cudaError_t LaunchWeightedReduce(const void* in, DType in_t, const ReduceSpecDevice* spec,
                                 size_t n_out, size_t hidden, void* out, DType out_t,
                                 cudaStream_t stream);

// dst[i] = bf16(src[i]), i < count.
cudaError_t LaunchF32ToBf16(const float* src, size_t count, __nv_bfloat16* dst,
                            cudaStream_t stream);

// h[i] = bf16(silu(gate[i]) * up[i]), silu(x) = x / (1 + exp(-x)), i < count.
cudaError_t LaunchSiluMul(const float* gate, const float* up, size_t count, __nv_bfloat16* h,
                          cudaStream_t stream);

// The SwiGLU activation's backward, i < count: with s = sigmoid(a[i]),
// act[i] = bf16(a s b), da[i] = bf16(dh[i] b s (1 + a (1 - s))),
// db[i] = bf16(dh[i] a s) (a = gate[i], b = up[i]).
cudaError_t LaunchSiluMulBackward(const float* gate, const float* up, const float* dh,
                                  size_t count, __nv_bfloat16* act, __nv_bfloat16* da,
                                  __nv_bfloat16* db, cudaStream_t stream);

}  // namespace epsim::hw

#endif  // EPSIM_HW_CUDA_KERNELS_CUH_
