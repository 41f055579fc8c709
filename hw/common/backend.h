// The backend interface of the hardware harness: what a rank's executor
// needs from a machine. Two implementations: hw/host (CPU + MPI: OpenBLAS
// GEMMs, MPI point-to-point) and hw/cuda (CUDA kernels, cuBLAS GEMMs, NCCL
// send/recv). Everything else (plan layout, the timing loop, verification,
// report writing) is shared in hw/common and calls only this interface, so
// a host run exercises the code a GPU run uses.
//
// Memory: buffers are the backend's (device memory for CUDA, host memory
// for the host backend); the executor only passes their handles back.
// Rows are `hidden` elements of one DType, stored back to back.
// Ops are issued in order on one stream and may run asynchronously; Mark()
// records a timestamp on that stream and ReadMarks() waits for all of them.
// Every call that can fail returns a Status whose message names host, rank
// and device (Where()).
#ifndef EPSIM_HW_COMMON_BACKEND_H_
#define EPSIM_HW_COMMON_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::hw {

enum class DType { kF32, kBF16 };
size_t DTypeBytes(DType t);  // 4, 2
const char* DTypeName(DType t);  // "fp32", "bf16"

// A backend allocation. Opaque to the executor.
struct Buffer {
  void* ptr = nullptr;
  size_t bytes = 0;
};

// out[o] (row `out_rows[o]` of the output) = sum over j in
// [offsets[o], offsets[o + 1]) of coef[j] * in[idx[j]], accumulated in FP32.
// Uploaded once (UploadReduce); the executor builds it in layout.h.
struct ReduceSpec {
  std::vector<uint32_t> offsets;   // n_out + 1
  std::vector<uint32_t> idx;       // input rows
  std::vector<float> coef;
  std::vector<uint32_t> out_rows;  // n_out
  size_t num_out() const { return out_rows.size(); }
};

// One all-to-all-v: per peer, rows sent from / received into contiguous
// segments (offsets in rows, peer order 0..n-1; the self segment is a
// local copy and crosses no link).
struct AllToAllSpec {
  std::vector<uint64_t> send_rows, send_offset;  // [peer]
  std::vector<uint64_t> recv_rows, recv_offset;
  // Segments back to back in peer order (offsets = prefix sums of rows).
  static AllToAllSpec FromRows(std::vector<uint64_t> send_rows, std::vector<uint64_t> recv_rows);
  // The same exchange in the other direction (combine of a dispatch).
  AllToAllSpec Reversed() const { return FromRows(recv_rows, send_rows); }
  uint64_t SendTotal() const;
  uint64_t RecvTotal() const;
};

// The median of `v` (mean of the middle two for an even count; 0 when
// empty): what measured figures report over passes.
double Median(std::vector<double> v);

// Seconds, measured on the backend's stream, from the last MarkPassStart().
using Marks = std::vector<double>;

class Backend {
 public:
  virtual ~Backend() = default;

  virtual uint32_t rank() const = 0;
  virtual uint32_t num_ranks() const = 0;
  // "host NAME rank R device D" for messages.
  virtual std::string Where() const = 0;
  // Name and version lines for the output header ("backend", "host + MPI
  // (Open MPI 4.1.4), OpenBLAS 0.3.21").
  virtual std::vector<std::pair<std::string, std::string>> Describe() const = 0;
  // Compute dtype of expert GEMMs and its per-element relative rounding
  // (host: FP32, 2^-24; CUDA: BF16 inputs, FP32 accumulate, 2^-8).
  virtual DType compute_dtype() const = 0;
  virtual double compute_rounding() const = 0;

  // Memory. Alloc zero-fills.
  virtual Result<Buffer> Alloc(size_t bytes) = 0;
  virtual Status Upload(const Buffer& dst, const void* src, size_t bytes) = 0;
  virtual Status Download(void* dst, const Buffer& src, size_t bytes) = 0;

  // Kernels. `hidden` elements per row.
  // dst row i = src row idx[i], converted from src_t to dst_t. `idx` is a
  // buffer of uint32 made by UploadIndex.
  virtual Status GatherRows(const Buffer& src, DType src_t, const Buffer& idx, size_t n,
                            size_t hidden, const Buffer& dst, DType dst_t) = 0;
  // A ReduceSpec prepared once; `spec` is the handle UploadReduce returned.
  virtual Result<Buffer> UploadReduce(const ReduceSpec& spec) = 0;
  virtual Status WeightedReduce(const Buffer& in, DType in_t, const Buffer& spec, size_t n_out,
                                size_t hidden, const Buffer& out, DType out_t) = 0;
  virtual Result<Buffer> UploadIndex(std::span<const uint32_t> idx) = 0;
  // Expert weights: gate and up [hidden x width], down [width x hidden],
  // row-major FP32 values (the backend may store them in its compute dtype).
  // Returns a handle for SwigluFfn.
  virtual Result<Buffer> UploadFfn(std::span<const float> w_gate, std::span<const float> w_up,
                                   std::span<const float> w_down, size_t hidden,
                                   size_t width) = 0;
  // y[n x hidden] = (silu(x Wg) * (x Wu)) Wd, x and y FP32 rows.
  // `scratch` holds at least 3 * n * width FP32 values; afterwards its
  // first 2 * n * width values are the activations the backward reads
  // (a = x Wg and b = x Wu, laid out as this backend chooses).
  virtual Status SwigluFfn(const Buffer& ffn, const Buffer& x, size_t n, const Buffer& scratch,
                           const Buffer& y) = 0;
  // The backward of SwigluFfn on the same n rows (training): from the rows
  // x, the output gradient dy (FP32 rows) and `saved` (the first
  // 2 * n * width values SwigluFfn left in its scratch for these x),
  //   dx[n x hidden] = (da Wg^T + db Wu^T), with dh = dy Wd^T,
  //   da = dh * b * silu'(a), db = dh * silu(a),
  // and the weight gradients into `grad` (3 * hidden * width FP32 values,
  // overwritten: dWg = x^T da, dWu = x^T db, dWd = silu(a)*b ^T dy).
  // Twice the forward's GEMM FLOPs. `scratch` holds at least 3 * n * width
  // FP32 values.
  virtual Status SwigluFfnBackward(const Buffer& ffn, const Buffer& x, const Buffer& dy,
                                   const Buffer& saved, size_t n, const Buffer& scratch,
                                   const Buffer& dx, const Buffer& grad) = 0;
  // A GEMM [m x k] by [k x n] on scratch operands, result discarded: the
  // stand-in for phases whose data the harness does not model (attention,
  // router). `a`, `b`, `c` hold m*k, k*n, m*n values of the compute dtype.
  virtual Status Gemm(size_t m, size_t n, size_t k, const Buffer& a, const Buffer& b,
                      const Buffer& c) = 0;

  // Communication. `send` and `recv` hold rows of `row_bytes`; every
  // transfer must finish by the deadline (seconds on the monotonic clock,
  // NowS()), else DeadlineExceeded naming the peers still missing.
  virtual Status AllToAllV(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                           size_t row_bytes, double deadline_s) = 0;
  // Two streams (plans with overlap, runner.h): the all-to-all on the
  // communication stream, after what the compute stream has issued so far,
  // with marks `mark_start` and `mark_end` recorded there when it starts and
  // ends; returns a handle at once. WaitComm(handle) makes the compute
  // stream (and, where compute is the host's, this thread) wait for it and
  // returns its status. This default runs it in place (no overlap), for
  // backends with one stream.
  virtual Result<int> AllToAllVAsync(const Buffer& send, const Buffer& recv,
                                     const AllToAllSpec& spec, size_t row_bytes,
                                     double deadline_s, size_t mark_start, size_t mark_end) {
    EPSIM_RETURN_IF_ERROR(Mark(mark_start));
    EPSIM_RETURN_IF_ERROR(AllToAllV(send, recv, spec, row_bytes, deadline_s));
    EPSIM_RETURN_IF_ERROR(Mark(mark_end));
    return 0;
  }
  virtual Status WaitComm(int /*handle*/) { return Status::Ok(); }
  // Sum of `count` BF16 values over ranks, in place on every rank (the
  // data-parallel gradient all-reduce of training): the host backend's
  // MPI_Iallreduce with a BF16 sum, the CUDA backend's ncclAllReduce.
  virtual Status AllReduceBf16(const Buffer& data, size_t count, double deadline_s) = 0;
  // The same on the communication stream, as AllToAllVAsync (WaitComm
  // takes its handle); the default runs it in place.
  virtual Result<int> AllReduceBf16Async(const Buffer& data, size_t count, double deadline_s,
                                         size_t mark_start, size_t mark_end) {
    EPSIM_RETURN_IF_ERROR(Mark(mark_start));
    EPSIM_RETURN_IF_ERROR(AllReduceBf16(data, count, deadline_s));
    EPSIM_RETURN_IF_ERROR(Mark(mark_end));
    return 0;
  }
  // Whether AllToAllVAsync overlaps compute (a second stream or thread).
  virtual bool two_streams() const { return false; }
  // A barrier that names the ranks that did not arrive by the deadline.
  virtual Status Barrier(double deadline_s) = 0;
  // Element-wise sum over ranks; every rank gets the result.
  virtual Result<std::vector<double>> AllReduceSum(std::vector<double> values,
                                                   double deadline_s) = 0;
  // Rank 0 gets every rank's vector (same length everywhere), rank order.
  virtual Result<std::vector<std::vector<double>>> GatherToRoot(
      const std::vector<double>& values, double deadline_s) = 0;

  // Timing. MarkPassStart() after the pass's barrier; Mark(i) records
  // timestamp i (i < num_marks given to MarkPassStart) on the stream.
  virtual Status MarkPassStart(size_t num_marks) = 0;
  virtual Status Mark(size_t i) = 0;
  virtual Result<Marks> ReadMarks() = 0;

  // Host monotonic clock in seconds (deadlines).
  static double NowS();
};

// Seconds per call of `op` (a callable returning Status) over `reps` calls
// back to back, timed on the backend's stream as one batch (nccl-tests'
// way). Marks 0 and 1 of a fresh pass are used.
template <typename Op>
Result<double> TimePerCall(Backend* backend, uint32_t reps, Op op) {
  EPSIM_RETURN_IF_ERROR(backend->MarkPassStart(2));
  EPSIM_RETURN_IF_ERROR(backend->Mark(0));
  for (uint32_t i = 0; i < reps; ++i) EPSIM_RETURN_IF_ERROR(op());
  EPSIM_RETURN_IF_ERROR(backend->Mark(1));
  EPSIM_ASSIGN_OR_RETURN(Marks m, backend->ReadMarks());
  return (m[1] - m[0]) / reps;
}

}  // namespace epsim::hw

#endif  // EPSIM_HW_COMMON_BACKEND_H_
