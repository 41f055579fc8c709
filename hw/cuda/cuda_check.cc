#include "hw/cuda/cuda_check.h"

#include <cstring>

namespace epsim::hw {
namespace {

// __FILE__ is absolute under CMake; from "hw/" on is what a reader needs.
std::string ShortFile(const char* file) {
  const char* p = std::strstr(file, "hw/cuda/");
  return p != nullptr ? p : file;
}

std::string Message(const std::string& where, const char* call, const char* file, int line,
                    const std::string& error) {
  return where + ": " + call + " failed at " + ShortFile(file) + ":" + std::to_string(line) +
         ": " + error;
}

}  // namespace

Status CudaError(cudaError_t err, const char* call, const char* file, int line,
                 const std::string& where) {
  std::string msg = Message(where, call, file, line,
                            std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err));
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) {
    return Status::NotFound(std::move(msg));
  }
  return Status::Internal(std::move(msg));
}

Status NcclError(ncclResult_t err, const char* call, const char* file, int line,
                 const std::string& where) {
  std::string error = ncclGetErrorString(err);
  // The last error of this thread, often naming the peer or the transport.
  const char* detail = ncclGetLastError(nullptr);
  if (detail != nullptr && detail[0] != '\0') error += " (" + std::string(detail) + ")";
  std::string msg = Message(where, call, file, line, error);
  if (err == ncclRemoteError) return Status::PeerFailure(std::move(msg));
  return Status::Internal(std::move(msg));
}

Status CublasError(cublasStatus_t err, const char* call, const char* file, int line,
                   const std::string& where) {
  return Status::Internal(Message(where, call, file, line,
                                  std::string(cublasGetStatusName(err)) + ": " +
                                      cublasGetStatusString(err)));
}

}  // namespace epsim::hw
