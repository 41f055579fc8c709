// CudaCompute's life cycle, memory, timing and description; the kernels
// and GEMMs are in cuda_compute_ops.cc.
#include "hw/cuda/cuda_compute.h"

#include <algorithm>
#include <cstdio>

#include "hw/cuda/cuda_check.h"

namespace epsim::hw {
namespace {

// 12040 -> "12.4".
std::string CudaVersionText(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string CublasVersionText() {
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(MINOR_VERSION, &minor) != CUBLAS_STATUS_SUCCESS ||
      cublasGetProperty(PATCH_LEVEL, &patch) != CUBLAS_STATUS_SUCCESS) {
    return "unknown";
  }
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace

Result<std::unique_ptr<CudaCompute>> CudaCompute::Create(int device, std::string where) {
  std::unique_ptr<CudaCompute> compute(new CudaCompute(device, std::move(where)));
  EPSIM_RETURN_IF_ERROR(compute->Init());
  return compute;
}

Status CudaCompute::Init() {
  EPSIM_CUDA_CHECK(where_, cudaSetDevice(device_));
  // Non-blocking: nothing on the legacy default stream (a library's stray
  // cudaMemcpy) can serialise with the measured work.
  EPSIM_CUDA_CHECK(where_, cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  EPSIM_CUDA_CHECK(where_, cudaStreamCreateWithFlags(&comm_stream_, cudaStreamNonBlocking));
  EPSIM_CUBLAS_CHECK(where_, cublasCreate(&cublas_));
  EPSIM_CUBLAS_CHECK(where_, cublasSetStream(cublas_, stream_));
  EPSIM_CUDA_CHECK(where_, cudaEventCreate(&start_));
  return Status::Ok();
}

// Errors here cannot be reported (and the process is ending): best effort.
CudaCompute::~CudaCompute() {
  cudaSetDevice(device_);
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  if (comm_stream_ != nullptr) cudaStreamSynchronize(comm_stream_);
  for (cudaEvent_t e : events_) cudaEventDestroy(e);
  for (cudaEvent_t e : comm_events_) cudaEventDestroy(e);
  if (start_ != nullptr) cudaEventDestroy(start_);
  for (void* p : allocations_) cudaFree(p);
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  if (comm_stream_ != nullptr) cudaStreamDestroy(comm_stream_);
}

std::vector<std::pair<std::string, std::string>> CudaCompute::Describe() const {
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  std::string device = "unknown";
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device_) == cudaSuccess) {
    char text[320];
    std::snprintf(text, sizeof text, "%s (sm_%d%d, %.1f GB), device %d", prop.name, prop.major,
                  prop.minor, static_cast<double>(prop.totalGlobalMem) / 1e9, device_);
    device = text;
  }
  return {{"cuda", "runtime " + CudaVersionText(runtime) + ", driver " + CudaVersionText(driver)},
          {"device", device},
          {"cublas", CublasVersionText()}};
}

Status CudaCompute::Fail(const std::string& what) const {
  return Status::Internal(where_ + ": " + what);
}

Result<Buffer> CudaCompute::Alloc(size_t bytes) {
  Buffer buffer{nullptr, bytes};
  if (bytes == 0) return buffer;
  const auto where = [&] { return where_ + ": Alloc(" + std::to_string(bytes) + " B)"; };
  EPSIM_CUDA_CHECK(where(), cudaMalloc(&buffer.ptr, bytes));
  allocations_.push_back(buffer.ptr);
  EPSIM_CUDA_CHECK(where(), cudaMemsetAsync(buffer.ptr, 0, bytes, stream_));
  return buffer;
}

// From pageable memory cudaMemcpyAsync returns once `src` is staged, so
// the caller may free it right away.
Status CudaCompute::Upload(const Buffer& dst, const void* src, size_t bytes) {
  if (bytes > dst.bytes) {
    return Fail("Upload of " + std::to_string(bytes) + " B into a buffer of " +
                std::to_string(dst.bytes) + " B");
  }
  if (bytes == 0) return Status::Ok();
  EPSIM_CUDA_CHECK(where_, cudaMemcpyAsync(dst.ptr, src, bytes, cudaMemcpyHostToDevice, stream_));
  return Status::Ok();
}

Status CudaCompute::Download(void* dst, const Buffer& src, size_t bytes) {
  if (bytes > src.bytes) {
    return Fail("Download of " + std::to_string(bytes) + " B from a buffer of " +
                std::to_string(src.bytes) + " B");
  }
  if (bytes == 0) return Status::Ok();
  EPSIM_CUDA_CHECK(where_, cudaMemcpyAsync(dst, src.ptr, bytes, cudaMemcpyDeviceToHost, stream_));
  return Synchronize();
}

Status CudaCompute::Synchronize() {
  EPSIM_CUDA_CHECK(where_, cudaStreamSynchronize(stream_));
  EPSIM_CUDA_CHECK(where_, cudaStreamSynchronize(comm_stream_));
  return Status::Ok();
}

Result<int> CudaCompute::ForkComm() {
  int h = 0;
  if (!free_handles_.empty()) {
    h = free_handles_.back();
    free_handles_.pop_back();
  } else {
    cudaEvent_t event = nullptr;
    EPSIM_CUDA_CHECK(where_, cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    comm_events_.push_back(event);
    h = static_cast<int>(comm_events_.size() - 1);
  }
  // The fork reuses the handle's event: recorded on the compute stream,
  // waited for by the communication stream.
  EPSIM_CUDA_CHECK(where_, cudaEventRecord(comm_events_[h], stream_));
  EPSIM_CUDA_CHECK(where_, cudaStreamWaitEvent(comm_stream_, comm_events_[h], 0));
  return h;
}

Status CudaCompute::MarkComm(size_t i) { return RecordMark(i, comm_stream_); }

Result<cudaEvent_t> CudaCompute::CommDone(int h) {
  if (h < 0 || static_cast<size_t>(h) >= comm_events_.size()) return Fail("no such comm handle");
  EPSIM_CUDA_CHECK(where_, cudaEventRecord(comm_events_[h], comm_stream_));
  return comm_events_[h];
}

Status CudaCompute::JoinComm(int h) {
  if (h < 0 || static_cast<size_t>(h) >= comm_events_.size()) return Fail("no such comm handle");
  EPSIM_CUDA_CHECK(where_, cudaStreamWaitEvent(stream_, comm_events_[h], 0));
  free_handles_.push_back(h);
  return Status::Ok();
}

// Grows only (warm-up passes reach the largest n); the old block may still
// be in use by queued kernels, hence the synchronisation before cudaFree.
Result<void*> CudaCompute::OwnScratch(size_t bytes) {
  if (own_scratch_.bytes >= bytes) return own_scratch_.ptr;
  if (own_scratch_.ptr != nullptr) {
    EPSIM_RETURN_IF_ERROR(Synchronize());
    EPSIM_CUDA_CHECK(where_, cudaFree(own_scratch_.ptr));
    allocations_.erase(std::find(allocations_.begin(), allocations_.end(), own_scratch_.ptr));
    own_scratch_ = Buffer{};
  }
  EPSIM_ASSIGN_OR_RETURN(own_scratch_, Alloc(bytes));
  return own_scratch_.ptr;
}

Status CudaCompute::MarkPassStart(size_t num_marks) {
  EPSIM_RETURN_IF_ERROR(Synchronize());
  while (events_.size() < num_marks) {
    cudaEvent_t event = nullptr;
    EPSIM_CUDA_CHECK(where_, cudaEventCreate(&event));
    events_.push_back(event);
  }
  recorded_.assign(num_marks, false);
  EPSIM_CUDA_CHECK(where_, cudaEventRecord(start_, stream_));
  return Status::Ok();
}

Status CudaCompute::Mark(size_t i) { return RecordMark(i, stream_); }

Status CudaCompute::RecordMark(size_t i, cudaStream_t stream) {
  if (i >= recorded_.size()) {
    return Fail("Mark(" + std::to_string(i) + ") but the pass has " +
                std::to_string(recorded_.size()) + " marks");
  }
  EPSIM_CUDA_CHECK(where_, cudaEventRecord(events_[i], stream));
  recorded_[i] = true;
  return Status::Ok();
}

Result<Marks> CudaCompute::ReadMarks() {
  EPSIM_RETURN_IF_ERROR(Synchronize());
  Marks marks(recorded_.size());
  for (size_t i = 0; i < marks.size(); ++i) {
    if (!recorded_[i]) return Fail("mark " + std::to_string(i) + " was not recorded this pass");
    float ms = 0;
    EPSIM_CUDA_CHECK(where_, cudaEventElapsedTime(&ms, start_, events_[i]));
    marks[i] = static_cast<double>(ms) * 1e-3;
  }
  return marks;
}

}  // namespace epsim::hw
