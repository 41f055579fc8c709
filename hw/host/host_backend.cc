#include "hw/host/host_backend.h"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace epsim::hw {
namespace {

class HostBackend : public Backend {
 public:
  HostBackend(MpiComm* mpi, const HostOptions& options)
      : mpi_(mpi), compute_(options.blas_threads), threads_(options.blas_threads) {}
  ~HostBackend() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (comm_thread_.joinable()) comm_thread_.join();
  }

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
  Status SwigluFfnBackward(const Buffer& ffn, const Buffer& x, const Buffer& dy,
                           const Buffer& saved, size_t n, const Buffer& scratch, const Buffer& dx,
                           const Buffer& grad) override {
    return compute_.SwigluFfnBackward(ffn, x, dy, saved, n, scratch, dx, grad);
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
  // The communication stream: one thread runs the all-to-alls and
  // gradient all-reduces in issue
  // order while this one computes (MPI called from one thread at a time:
  // the runner waits for every all-to-all before its next barrier). MPI's
  // copies are CPU work, so on a shared core they take from compute.
  bool two_streams() const override { return mpi_->serialized_threads(); }
  Result<int> AllToAllVAsync(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                             size_t row_bytes, double deadline_s, size_t mark_start,
                             size_t mark_end) override {
    if (!two_streams())
      return Backend::AllToAllVAsync(send, recv, spec, row_bytes, deadline_s, mark_start,
                                     mark_end);
    return Enqueue(mark_start, mark_end, [this, send, recv, spec, row_bytes, deadline_s] {
      return AllToAllV(send, recv, spec, row_bytes, deadline_s);
    });
  }
  Status AllReduceBf16(const Buffer& data, size_t count, double deadline_s) override {
    if (count * 2 > data.bytes) return Status::Internal(Where() + ": all-reduce larger than its buffer");
    return mpi_->AllReduceBf16(static_cast<uint16_t*>(data.ptr), count, deadline_s);
  }
  Result<int> AllReduceBf16Async(const Buffer& data, size_t count, double deadline_s,
                                 size_t mark_start, size_t mark_end) override {
    if (!two_streams())
      return Backend::AllReduceBf16Async(data, count, deadline_s, mark_start, mark_end);
    return Enqueue(mark_start, mark_end, [this, data, count, deadline_s] {
      return AllReduceBf16(data, count, deadline_s);
    });
  }
  Status WaitComm(int handle) override {
    if (!two_streams()) return Status::Ok();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_.count(handle) > 0; });
    Status st = std::move(done_[handle]);
    done_.erase(handle);
    return st;
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
  // Queues `op` on the communication thread, its start and end recorded
  // as marks `mark_start` and `mark_end`.
  Result<int> Enqueue(size_t mark_start, size_t mark_end, std::function<Status()> op) {
    if (mark_start >= marks_.size() || mark_end >= marks_.size())
      return Status::Internal("mark out of range");
    std::lock_guard<std::mutex> lock(mu_);
    if (!comm_thread_.joinable()) comm_thread_ = std::thread([this] { CommLoop(); });
    const int handle = next_handle_++;
    jobs_.push_back([this, op = std::move(op), mark_start, mark_end] {
      marks_[mark_start] = NowS() - start_s_;
      Status st = op();
      marks_[mark_end] = NowS() - start_s_;
      return st;
    });
    job_handles_.push_back(handle);
    cv_.notify_all();
    return handle;
  }

  void CommLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping
      std::function<Status()> job = std::move(jobs_.front());
      const int handle = job_handles_.front();
      jobs_.pop_front();
      job_handles_.pop_front();
      lock.unlock();
      Status st = job();
      lock.lock();
      done_[handle] = std::move(st);
      cv_.notify_all();
    }
  }

  MpiComm* mpi_;
  HostCompute compute_;
  int threads_;
  Marks marks_;
  double start_s_ = 0;
  // The communication stream.
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread comm_thread_;
  std::deque<std::function<Status()>> jobs_;
  std::deque<int> job_handles_;
  std::map<int, Status> done_;
  int next_handle_ = 1;
  bool stop_ = false;
};

}  // namespace

std::unique_ptr<Backend> MakeHostBackend(MpiComm* mpi, const HostOptions& options) {
  return std::make_unique<HostBackend>(mpi, options);
}

}  // namespace epsim::hw
