#include "hw/cuda/cuda_backend.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "hw/cuda/cuda_check.h"
#include "hw/cuda/cuda_compute.h"
#include "hw/cuda/nccl_comm.h"
#include "sim/base/check.h"

namespace epsim::hw {
namespace {

// Forwards the kernels to CudaCompute and the all-to-all to NcclComm.
class CudaBackend final : public Backend {
 public:
  CudaBackend(MpiComm* mpi, std::unique_ptr<CudaCompute> compute, std::unique_ptr<NcclComm> nccl)
      : mpi_(mpi), compute_(std::move(compute)), nccl_(std::move(nccl)) {}

  uint32_t rank() const override { return mpi_->rank(); }
  uint32_t num_ranks() const override { return mpi_->size(); }
  std::string Where() const override { return compute_->where(); }
  std::vector<std::pair<std::string, std::string>> Describe() const override;
  DType compute_dtype() const override { return DType::kBF16; }
  double compute_rounding() const override { return std::ldexp(1.0, -8); }

  Result<Buffer> Alloc(size_t bytes) override { return compute_->Alloc(bytes); }
  Status Upload(const Buffer& dst, const void* src, size_t bytes) override {
    return compute_->Upload(dst, src, bytes);
  }
  Status Download(void* dst, const Buffer& src, size_t bytes) override {
    return compute_->Download(dst, src, bytes);
  }

  Status GatherRows(const Buffer& src, DType src_t, const Buffer& idx, size_t n, size_t hidden,
                    const Buffer& dst, DType dst_t) override {
    return compute_->GatherRows(src, src_t, idx, n, hidden, dst, dst_t);
  }
  Result<Buffer> UploadReduce(const ReduceSpec& spec) override {
    return compute_->UploadReduce(spec);
  }
  Status WeightedReduce(const Buffer& in, DType in_t, const Buffer& spec, size_t n_out,
                        size_t hidden, const Buffer& out, DType out_t) override {
    return compute_->WeightedReduce(in, in_t, spec, n_out, hidden, out, out_t);
  }
  Result<Buffer> UploadIndex(std::span<const uint32_t> idx) override {
    return compute_->UploadIndex(idx);
  }
  Result<Buffer> UploadFfn(std::span<const float> w_gate, std::span<const float> w_up,
                           std::span<const float> w_down, size_t hidden, size_t width) override {
    return compute_->UploadFfn(w_gate, w_up, w_down, hidden, width);
  }
  Status SwigluFfn(const Buffer& ffn, const Buffer& x, size_t n, const Buffer& scratch,
                   const Buffer& y) override {
    return compute_->SwigluFfn(ffn, x, n, scratch, y);
  }
  Status SwigluFfnBackward(const Buffer& ffn, const Buffer& x, const Buffer& dy,
                           const Buffer& saved, size_t n, const Buffer& scratch, const Buffer& dx,
                           const Buffer& grad) override {
    return compute_->SwigluFfnBackward(ffn, x, dy, saved, n, scratch, dx, grad);
  }
  Status Gemm(size_t m, size_t n, size_t k, const Buffer& a, const Buffer& b,
              const Buffer& c) override {
    return compute_->Gemm(m, n, k, a, b, c);
  }

  Status AllToAllV(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                   size_t row_bytes, double deadline_s) override {
    return nccl_->AllToAllV(send, recv, spec, row_bytes, compute_->stream(), deadline_s);
  }
  Status Barrier(double deadline_s) override {
    EPSIM_RETURN_IF_ERROR(compute_->Synchronize());
    return mpi_->Barrier(deadline_s);
  }
  Result<std::vector<double>> AllReduceSum(std::vector<double> values,
                                           double deadline_s) override {
    EPSIM_RETURN_IF_ERROR(compute_->Synchronize());
    return mpi_->AllReduceSum(std::move(values), deadline_s);
  }
  Result<std::vector<std::vector<double>>> GatherToRoot(const std::vector<double>& values,
                                                        double deadline_s) override {
    EPSIM_RETURN_IF_ERROR(compute_->Synchronize());
    return mpi_->GatherToRoot(values, deadline_s);
  }

  // Two streams: the all-to-all on the communication stream, after what the
  // compute stream has queued; WaitComm waits (host, with the deadline) for
  // its event and orders the compute stream after it.
  bool two_streams() const override { return true; }
  Result<int> AllToAllVAsync(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                             size_t row_bytes, double deadline_s, size_t mark_start,
                             size_t mark_end) override {
    EPSIM_ASSIGN_OR_RETURN(const int h, compute_->ForkComm());
    EPSIM_RETURN_IF_ERROR(compute_->MarkComm(mark_start));
    EPSIM_RETURN_IF_ERROR(
        nccl_->StartAllToAllV(send, recv, spec, row_bytes, compute_->comm_stream()));
    EPSIM_RETURN_IF_ERROR(compute_->MarkComm(mark_end));
    EPSIM_ASSIGN_OR_RETURN(cudaEvent_t done, compute_->CommDone(h));
    if (static_cast<size_t>(h) >= comm_.size()) comm_.resize(h + 1);
    comm_[h] = {done, deadline_s};
    return h;
  }
  Status AllReduceBf16(const Buffer& data, size_t count, double deadline_s) override {
    return nccl_->AllReduceBf16(data, count, compute_->stream(), deadline_s);
  }
  Result<int> AllReduceBf16Async(const Buffer& data, size_t count, double deadline_s,
                                 size_t mark_start, size_t mark_end) override {
    EPSIM_ASSIGN_OR_RETURN(const int h, compute_->ForkComm());
    EPSIM_RETURN_IF_ERROR(compute_->MarkComm(mark_start));
    EPSIM_RETURN_IF_ERROR(nccl_->StartAllReduceBf16(data, count, compute_->comm_stream()));
    EPSIM_RETURN_IF_ERROR(compute_->MarkComm(mark_end));
    EPSIM_ASSIGN_OR_RETURN(cudaEvent_t done, compute_->CommDone(h));
    if (static_cast<size_t>(h) >= comm_.size()) comm_.resize(h + 1);
    comm_[h] = {done, deadline_s};
    return h;
  }
  Status WaitComm(int h) override {
    if (h < 0 || static_cast<size_t>(h) >= comm_.size())
      return Status::Internal(Where() + ": no such all-to-all in flight");
    EPSIM_RETURN_IF_ERROR(nccl_->WaitEvent(comm_[h].done, comm_[h].deadline_s));
    return compute_->JoinComm(h);
  }

  Status MarkPassStart(size_t num_marks) override { return compute_->MarkPassStart(num_marks); }
  Status Mark(size_t i) override { return compute_->Mark(i); }
  Result<Marks> ReadMarks() override { return compute_->ReadMarks(); }

 private:
  MpiComm* mpi_;
  // Members go in reverse order: the communicator before the stream.
  std::unique_ptr<CudaCompute> compute_;
  std::unique_ptr<NcclComm> nccl_;
  // All-to-alls in flight on the communication stream, by handle.
  struct InFlight {
    cudaEvent_t done = nullptr;
    double deadline_s = 0;
  };
  std::vector<InFlight> comm_;
};

std::vector<std::pair<std::string, std::string>> CudaBackend::Describe() const {
  std::vector<std::pair<std::string, std::string>> lines = {
      {"backend", "CUDA + NCCL, MPI bootstrap (" + mpi_->LibraryVersion() + ")"}};
  for (auto& line : compute_->Describe()) lines.push_back(std::move(line));
  lines.emplace_back("nccl", NcclComm::Version());
  return lines;
}

Status CheckOptions(const CudaOptions& options) {
  if (options.gpus_per_process != 1) {
    return Status::Usage("-g " + std::to_string(options.gpus_per_process) +
                         ": multi-GPU per process is not supported yet; run one process per "
                         "GPU (mpirun -np <number of GPUs>) with -g 1");
  }
  if (!(options.timeout_s > 0)) return Status::Usage("the timeout must be positive");
  return Status::Ok();
}

}  // namespace

Result<int> CheckCudaDevice(const std::string& where) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    return Status::NotFound(where + ": no CUDA device visible (cudaGetDeviceCount: " +
                            cudaGetErrorName(err) + ": " + cudaGetErrorString(err) + ")");
  }
  if (count <= 0) {
    return Status::NotFound(where + ": no CUDA device visible (cudaGetDeviceCount: 0 devices)");
  }
  return count;
}

int DeviceOfRank(uint32_t rank, int device_count) {
  EPSIM_CHECK(device_count > 0);
  long local = static_cast<long>(rank);
  if (const char* env = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK")) {
    char* end = nullptr;
    const long parsed = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && parsed >= 0) local = parsed;
  }
  return static_cast<int>(local % device_count);
}

Result<std::unique_ptr<Backend>> MakeCudaBackend(MpiComm* mpi, const CudaOptions& options) {
  EPSIM_RETURN_IF_ERROR(CheckOptions(options));
  EPSIM_CHECK(mpi != nullptr);
  const double deadline_s = Backend::NowS() + options.timeout_s;
  EPSIM_ASSIGN_OR_RETURN(const int count, CheckCudaDevice(mpi->Where()));
  const int device = DeviceOfRank(mpi->rank(), count);
  const std::string where = mpi->Where() + " device " + std::to_string(device);
  EPSIM_ASSIGN_OR_RETURN(std::unique_ptr<CudaCompute> compute, CudaCompute::Create(device, where));
  EPSIM_ASSIGN_OR_RETURN(std::unique_ptr<NcclComm> nccl, NcclComm::Create(mpi, where, deadline_s));
  return std::unique_ptr<Backend>(
      std::make_unique<CudaBackend>(mpi, std::move(compute), std::move(nccl)));
}

}  // namespace epsim::hw
