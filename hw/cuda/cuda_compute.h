// One GPU's side of the CUDA backend, without communication: a stream, a
// cuBLAS handle bound to it, every device allocation, the kernels and
// GEMMs, and the timing events. CudaBackend (cuda_backend.h) adds NCCL and
// MPI around it; tests drive it directly on a machine with a GPU.
//
// Ownership: CudaCompute owns every buffer it hands out (device memory,
// freed by the destructor; there is no Free) and the handles stored beside
// them (index, reduce and FFN handles are buffers too).
//
// Precision (compute_dtype BF16, relative rounding 2^-8 per element):
//   * weights are stored in BF16 (rounded to nearest even on the host);
//   * SwigluFfn rounds x to BF16, computes x Wg and x Wu with BF16 inputs,
//     FP32 accumulate and FP32 outputs (cuBLAS CUBLAS_COMPUTE_32F), rounds
//     h = silu(x Wg) * (x Wu) to BF16, and computes y = h Wd with FP32
//     accumulate into FP32 y;
//   * WeightedReduce accumulates in FP32 whatever the in/out dtypes;
//   * GatherRows converts exactly (BF16 -> FP32) or rounds to nearest even.
//
// Backward (SwigluFfnBackward): x and dy are rounded to BF16; dh = dy Wd^T
// in FP32; the activation, da and db are rounded to BF16 (one kernel) and
// the five GEMMs (dWd, dx twice, dWg, dWu) take BF16 inputs with FP32
// accumulate and outputs. Its own scratch holds x, dy, act, da, db in BF16.
//
// Scratch: SwigluFfn keeps x Wg and x Wu (FP32) in the caller's scratch,
// which must hold 2 * n * width FP32 values as backend.h says. It needs
// n * (hidden + width) BF16 values more (x and h in BF16); those live in
// a scratch of its own, allocated on first use and grown to the largest n.
//
// Timing: one CUDA event per mark, created on first use and reused; times
// are cudaEventElapsedTime from the pass start (resolution about 0.5 us).
#ifndef EPSIM_HW_CUDA_CUDA_COMPUTE_H_
#define EPSIM_HW_CUDA_CUDA_COMPUTE_H_

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hw/common/backend.h"
#include "sim/base/status.h"

namespace epsim::hw {

// BadInput unless `spec` is well formed: offsets has num_out + 1 entries,
// starts at 0, never decreases and ends at idx.size(); coef matches idx;
// every count fits the kernel's uint32 indices.
Status CheckReduceSpec(const ReduceSpec& spec);

// The bytes UploadReduce copies to device address `device_base`: a
// ReduceSpecDevice (kernels.cuh) whose pointers point into the same
// allocation, then offsets, out_rows, idx, coef. `spec` must be checked.
std::vector<uint8_t> PackReduceSpec(const ReduceSpec& spec, uintptr_t device_base);

class CudaCompute {
 public:
  // Makes `device` current on this thread and creates the stream (non-
  // blocking with respect to the legacy default stream) and the cuBLAS
  // handle. `where` ("host NAME rank R device D") prefixes every error.
  static Result<std::unique_ptr<CudaCompute>> Create(int device, std::string where);
  ~CudaCompute();
  CudaCompute(const CudaCompute&) = delete;
  CudaCompute& operator=(const CudaCompute&) = delete;

  const std::string& where() const { return where_; }
  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  // The communication stream (plans with overlap): all-to-alls run there,
  // ordered against the compute stream by events.
  cudaStream_t comm_stream() const { return comm_stream_; }
  // Makes the communication stream wait for all work issued so far on the
  // compute stream; returns a handle whose event CommDone records.
  Result<int> ForkComm();
  // Records mark `i` on the communication stream.
  Status MarkComm(size_t i);
  // Records handle `h`'s event on the communication stream (after the
  // all-to-all) and returns it, for the caller to wait on.
  Result<cudaEvent_t> CommDone(int h);
  // The compute stream waits for handle `h`'s event; the handle is free.
  Status JoinComm(int h);
  // CUDA runtime and driver, device, cuBLAS lines for the output header.
  std::vector<std::pair<std::string, std::string>> Describe() const;

  // Backend's memory, kernel and timing calls, with its contracts.
  Result<Buffer> Alloc(size_t bytes);
  Status Upload(const Buffer& dst, const void* src, size_t bytes);
  Status Download(void* dst, const Buffer& src, size_t bytes);
  Status Synchronize();

  Result<Buffer> UploadIndex(std::span<const uint32_t> idx);
  Status GatherRows(const Buffer& src, DType src_t, const Buffer& idx, size_t n, size_t hidden,
                    const Buffer& dst, DType dst_t);
  Result<Buffer> UploadReduce(const ReduceSpec& spec);
  Status WeightedReduce(const Buffer& in, DType in_t, const Buffer& spec, size_t n_out,
                        size_t hidden, const Buffer& out, DType out_t);
  Result<Buffer> UploadFfn(std::span<const float> w_gate, std::span<const float> w_up,
                           std::span<const float> w_down, size_t hidden, size_t width);
  Status SwigluFfn(const Buffer& ffn, const Buffer& x, size_t n, const Buffer& scratch,
                   const Buffer& y);
  Status SwigluFfnBackward(const Buffer& ffn, const Buffer& x, const Buffer& dy,
                           const Buffer& saved, size_t n, const Buffer& scratch, const Buffer& dx,
                           const Buffer& grad);
  Status Gemm(size_t m, size_t n, size_t k, const Buffer& a, const Buffer& b, const Buffer& c);

  Status MarkPassStart(size_t num_marks);
  Status Mark(size_t i);
  Result<Marks> ReadMarks();

 private:
  // What the host remembers of a handle, to check calls before a kernel
  // can read out of bounds.
  struct IndexInfo {
    std::vector<uint32_t> prefix_max;  // [i] = max(idx[0..i])
  };
  struct ReduceInfo {
    std::vector<uint32_t> offsets;
    std::vector<uint32_t> max_in_row;   // prefix maxima of idx
    std::vector<uint32_t> max_out_row;  // prefix maxima of out_rows
  };
  struct FfnInfo {
    size_t hidden = 0, width = 0;
  };

  CudaCompute(int device, std::string where) : device_(device), where_(std::move(where)) {}
  Status Init();
  Status RecordMark(size_t i, cudaStream_t stream);  // mark i on `stream`
  Status Fail(const std::string& what) const;  // BadInput "<where>: <what>"
  // Row-major C[m x n] = A[m x k] B[k x n], A and B BF16, FP32 accumulate.
  Status RowMajorGemm(size_t m, size_t n, size_t k, const void* a, const void* b, void* c,
                      cudaDataType_t c_type);
  // Row-major C[m x n] = op(A)[m x k] op(B)[k x n] + beta C, A and B BF16,
  // FP32 accumulate; op(X) = X^T when `trans_x` (X is then stored
  // transposed: A as [k x m], B as [n x k]).
  Status RowMajorGemmT(size_t m, size_t n, size_t k, const void* a, bool trans_a, const void* b,
                       bool trans_b, void* c, cudaDataType_t c_type, float beta);
  Result<void*> OwnScratch(size_t bytes);

  int device_;
  std::string where_;
  cudaStream_t stream_ = nullptr;
  cudaStream_t comm_stream_ = nullptr;
  std::vector<cudaEvent_t> comm_events_;  // [handle]
  std::vector<int> free_handles_;
  cublasHandle_t cublas_ = nullptr;
  std::vector<void*> allocations_;
  std::unordered_map<const void*, IndexInfo> indices_;
  std::unordered_map<const void*, ReduceInfo> reduces_;
  std::unordered_map<const void*, FfnInfo> ffns_;
  Buffer own_scratch_;
  cudaEvent_t start_ = nullptr;
  std::vector<cudaEvent_t> events_;
  std::vector<bool> recorded_;
};

}  // namespace epsim::hw

#endif  // EPSIM_HW_CUDA_CUDA_COMPUTE_H_
