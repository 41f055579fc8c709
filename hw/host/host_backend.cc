#include "hw/host/host_backend.h"

#include <fmt/format.h>

namespace epsim::hw {
namespace {

class HostBackend : public Backend {
 public:
  HostBackend(MpiComm* mpi, const HostOptions& options)
      : mpi_(mpi), compute_(options.blas_threads), threads_(options.blas_threads) {}

  uint32_t rank() const override { return mpi_->rank(); }
  uint32_t num_ranks() const override { return mpi_->size(); }
  std::string Where() const override { return mpi_->Where() + " device cpu"; }
  std::vector<std::pair<std::string, std::string>> Describe() const override {
    return {{"backend", fmt::format("host (CPU + MPI), {} BLAS thread(s) per rank", threads_)},
            {"mpi", mpi_->LibraryVersion()},
            {"blas", HostCompute::BlasVersion()},
            {"compute", "FP32 SGEMM; rows on the wire in the model's dtype"}};
  }
  DType compute_dtype() const override { return DType::kF32; }
  double compute_rounding() const override { return 0x1p-24; }

  Result<Buffer> Alloc(size_t bytes) override { return compute_.Alloc(bytes); }
  Status Upload(const Buffer& dst, const void* src, size_t bytes) override {
    return compute_.Upload(dst, src, bytes);
  }
  Status Download(void* dst, const Buffer& src, size_t bytes) override {
    return compute_.Download(dst, src, bytes);
  }
  Status GatherRows(const Buffer& src, DType src_t, const Buffer& idx, size_t n, size_t hidden,
                    const Buffer& dst, DType dst_t) override {
    return compute_.GatherRows(src, src_t, idx, n, hidden, dst, dst_t);
  }
  Result<Buffer> UploadReduce(const ReduceSpec& spec) override {
    return compute_.UploadReduce(spec);
  }
  Status WeightedReduce(const Buffer& in, DType in_t, const Buffer& spec, size_t n_out,
                        size_t hidden, const Buffer& out, DType out_t) override {
    return compute_.WeightedReduce(in, in_t, spec, n_out, hidden, out, out_t);
  }
  Result<Buffer> UploadIndex(std::span<const uint32_t> idx) override {
    return compute_.UploadIndex(idx);
  }
  Result<Buffer> UploadFfn(std::span<const float> g, std::span<const float> u,
                           std::span<const float> d, size_t hidden, size_t width) override {
    return compute_.UploadFfn(g, u, d, hidden, width);
  }
  Status SwigluFfn(const Buffer& ffn, const Buffer& x, size_t n, const Buffer& scratch,
                   const Buffer& y) override {
    return compute_.SwigluFfn(ffn, x, n, scratch, y);
  }
  Status Gemm(size_t m, size_t n, size_t k, const Buffer& a, const Buffer& b,
              const Buffer& c) override {
    return compute_.Gemm(m, n, k, a, b, c);
  }

  Status AllToAllV(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                   size_t row_bytes, double deadline_s) override {
    const size_t n = spec.send_rows.size();
    std::vector<uint64_t> sb(n), so(n), rb(n), ro(n);
    for (size_t p = 0; p < n; ++p) {
      sb[p] = spec.send_rows[p] * row_bytes;
      so[p] = spec.send_offset[p] * row_bytes;
      rb[p] = spec.recv_rows[p] * row_bytes;
      ro[p] = spec.recv_offset[p] * row_bytes;
    }
    if (spec.SendTotal() * row_bytes > send.bytes || spec.RecvTotal() * row_bytes > recv.bytes)
      return Status::Internal(Where() + ": all-to-all larger than its buffers");
    return mpi_->AllToAllV(static_cast<const uint8_t*>(send.ptr), sb, so,
                           static_cast<uint8_t*>(recv.ptr), rb, ro, deadline_s, "all-to-all");
  }
  Status Barrier(double deadline_s) override { return mpi_->Barrier(deadline_s); }
  Result<std::vector<double>> AllReduceSum(std::vector<double> values,
                                           double deadline_s) override {
    return mpi_->AllReduceSum(std::move(values), deadline_s);
  }
  Result<std::vector<std::vector<double>>> GatherToRoot(const std::vector<double>& values,
                                                        double deadline_s) override {
    return mpi_->GatherToRoot(values, deadline_s);
  }

  Status MarkPassStart(size_t num_marks) override {
    marks_.assign(num_marks, 0.0);
    start_s_ = NowS();
    return Status::Ok();
  }
  Status Mark(size_t i) override {
    if (i >= marks_.size()) return Status::Internal("mark out of range");
    marks_[i] = NowS() - start_s_;
    return Status::Ok();
  }
  Result<Marks> ReadMarks() override { return marks_; }

 private:
  MpiComm* mpi_;
  HostCompute compute_;
  int threads_;
  Marks marks_;
  double start_s_ = 0;
};

}  // namespace

std::unique_ptr<Backend> MakeHostBackend(MpiComm* mpi, const HostOptions& options) {
  return std::make_unique<HostBackend>(mpi, options);
}

}  // namespace epsim::hw
