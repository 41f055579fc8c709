#include "hw/cuda/kernels.cuh"

#include <algorithm>

namespace epsim::hw {
namespace {

constexpr unsigned kThreads = 256;
// Grid-stride loops: more blocks than this add nothing but launch cost.
constexpr size_t kMaxBlocks = size_t{1} << 16;

__device__ __forceinline__ float ToFloat(float x) { return x; }
__device__ __forceinline__ float ToFloat(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T>
__device__ __forceinline__ T FromFloat(float x);
template <>
__device__ __forceinline__ float FromFloat<float>(float x) { return x; }
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// One block per row (strided), threads across the row: rows are long
// (hidden = thousands) and coalesced.
template <typename S, typename D>
__global__ void GatherRowsKernel(const S* src, const uint32_t* idx, size_t n, size_t hidden,
                                 D* dst) {
  for (size_t r = blockIdx.x; r < n; r += gridDim.x) {
    const S* s = src + static_cast<size_t>(idx[r]) * hidden;
    D* d = dst + r * hidden;
    for (size_t h = threadIdx.x; h < hidden; h += blockDim.x) d[h] = FromFloat<D>(ToFloat(s[h]));
  }
}

template <typename I, typename O>
__global__ void WeightedReduceKernel(const I* in, const ReduceSpecDevice* spec, size_t n_out,
                                     size_t hidden, O* out) {
  const uint32_t* offsets = spec->offsets;
  const uint32_t* idx = spec->idx;
  const float* coef = spec->coef;
  for (size_t o = blockIdx.x; o < n_out; o += gridDim.x) {
    const uint32_t begin = offsets[o], end = offsets[o + 1];
    O* d = out + static_cast<size_t>(spec->out_rows[o]) * hidden;
    for (size_t h = threadIdx.x; h < hidden; h += blockDim.x) {
      float acc = 0.0f;
      for (uint32_t j = begin; j < end; ++j) {
        acc += coef[j] * ToFloat(in[static_cast<size_t>(idx[j]) * hidden + h]);
      }
      d[h] = FromFloat<O>(acc);
    }
  }
}

__global__ void F32ToBf16Kernel(const float* src, size_t count, __nv_bfloat16* dst) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    dst[i] = __float2bfloat16_rn(src[i]);
  }
}

__global__ void SiluMulKernel(const float* gate, const float* up, size_t count,
                              __nv_bfloat16* h) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    const float g = gate[i];
    h[i] = __float2bfloat16_rn(g / (1.0f + expf(-g)) * up[i]);
  }
}

__global__ void SiluMulBackwardKernel(const float* gate, const float* up, const float* dh,
                                      size_t count, __nv_bfloat16* act, __nv_bfloat16* da,
                                      __nv_bfloat16* db) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    const float a = gate[i], b = up[i], g = dh[i];
    const float s = 1.0f / (1.0f + expf(-a));
    act[i] = __float2bfloat16_rn(a * s * b);
    da[i] = __float2bfloat16_rn(g * b * s * (1.0f + a * (1.0f - s)));
    db[i] = __float2bfloat16_rn(g * a * s);
  }
}

unsigned RowBlocks(size_t rows) { return static_cast<unsigned>(std::min(rows, kMaxBlocks)); }
unsigned ElementBlocks(size_t count) {
  return static_cast<unsigned>(std::min((count + kThreads - 1) / kThreads, kMaxBlocks));
}

template <typename S, typename D>
void Gather(const void* src, const uint32_t* idx, size_t n, size_t hidden, void* dst,
            cudaStream_t stream) {
  GatherRowsKernel<S, D><<<RowBlocks(n), kThreads, 0, stream>>>(
      static_cast<const S*>(src), idx, n, hidden, static_cast<D*>(dst));
}

template <typename I, typename O>
void Reduce(const void* in, const ReduceSpecDevice* spec, size_t n_out, size_t hidden, void* out,
            cudaStream_t stream) {
  WeightedReduceKernel<I, O><<<RowBlocks(n_out), kThreads, 0, stream>>>(
      static_cast<const I*>(in), spec, n_out, hidden, static_cast<O*>(out));
}

}  // namespace

cudaError_t LaunchGatherRows(const void* src, DType src_t, const uint32_t* idx, size_t n,
                             size_t hidden, void* dst, DType dst_t, cudaStream_t stream) {
  if (n == 0 || hidden == 0) return cudaSuccess;
  const bool s32 = src_t == DType::kF32, d32 = dst_t == DType::kF32;
  if (s32 && d32) Gather<float, float>(src, idx, n, hidden, dst, stream);
  if (s32 && !d32) Gather<float, __nv_bfloat16>(src, idx, n, hidden, dst, stream);
  if (!s32 && d32) Gather<__nv_bfloat16, float>(src, idx, n, hidden, dst, stream);
  if (!s32 && !d32) Gather<__nv_bfloat16, __nv_bfloat16>(src, idx, n, hidden, dst, stream);
  return cudaGetLastError();
}

cudaError_t LaunchWeightedReduce(const void* in, DType in_t, const ReduceSpecDevice* spec,
                                 size_t n_out, size_t hidden, void* out, DType out_t,
                                 cudaStream_t stream) {
  if (n_out == 0 || hidden == 0) return cudaSuccess;
  const bool i32 = in_t == DType::kF32, o32 = out_t == DType::kF32;
  if (i32 && o32) Reduce<float, float>(in, spec, n_out, hidden, out, stream);
  if (i32 && !o32) Reduce<float, __nv_bfloat16>(in, spec, n_out, hidden, out, stream);
  if (!i32 && o32) Reduce<__nv_bfloat16, float>(in, spec, n_out, hidden, out, stream);
  if (!i32 && !o32) Reduce<__nv_bfloat16, __nv_bfloat16>(in, spec, n_out, hidden, out, stream);
  return cudaGetLastError();
}

cudaError_t LaunchF32ToBf16(const float* src, size_t count, __nv_bfloat16* dst,
                            cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  F32ToBf16Kernel<<<ElementBlocks(count), kThreads, 0, stream>>>(src, count, dst);
  return cudaGetLastError();
}

cudaError_t LaunchSiluMul(const float* gate, const float* up, size_t count, __nv_bfloat16* h,
                          cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  SiluMulKernel<<<ElementBlocks(count), kThreads, 0, stream>>>(gate, up, count, h);
  return cudaGetLastError();
}

cudaError_t LaunchSiluMulBackward(const float* gate, const float* up, const float* dh,
                                  size_t count, __nv_bfloat16* act, __nv_bfloat16* da,
                                  __nv_bfloat16* db, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  SiluMulBackwardKernel<<<ElementBlocks(count), kThreads, 0, stream>>>(gate, up, dh, count, act,
                                                                       da, db);
  return cudaGetLastError();
}

}  // namespace epsim::hw
