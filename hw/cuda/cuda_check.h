// Checked CUDA runtime, NCCL and cuBLAS calls: nccl-tests' CUDACHECK and
// NCCLCHECK, except that a failure becomes a Status for the caller instead
// of an exit. The message names the place and the library's own words:
//
//   host gpu7 rank 3 device 1: cudaMalloc(&ptr, bytes) failed at
//   hw/cuda/cuda_compute.cc:88: cudaErrorMemoryAllocation: out of memory
//
// Codes: a missing device or driver is NotFound (the harness exits 2); an
// NCCL remote error (a peer died or its network failed) is PeerFailure;
// anything else is Internal. Nothing here aborts or exits.
//
// This is also the one compat header of hw/cuda: version requirements live
// here and nowhere else.
#ifndef EPSIM_HW_CUDA_CUDA_CHECK_H_
#define EPSIM_HW_CUDA_CUDA_CHECK_H_

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

#include "sim/base/status.h"

// Non-blocking communicators (config.blocking = 0, ncclInProgress) arrived
// in NCCL 2.14; the watchdog depends on them.
#if !defined(NCCL_VERSION_CODE) || NCCL_VERSION_CODE < NCCL_VERSION(2, 14, 0)
#error "hw/cuda needs NCCL >= 2.14 (non-blocking communicators)"
#endif
// cublasGetStatusName and CUBLAS_COMPUTE_32F with BF16 inputs: CUDA >= 11.4.
#if CUDART_VERSION < 11040
#error "hw/cuda needs CUDA >= 11.4"
#endif

namespace epsim::hw {

// "<where>: <call> failed at <file>:<line>: <error name>: <error string>".
// `where` is "host NAME rank R device D" (Backend::Where()).
Status CudaError(cudaError_t err, const char* call, const char* file, int line,
                 const std::string& where);
// As CudaError; adds ncclGetLastError's detail when it says more.
Status NcclError(ncclResult_t err, const char* call, const char* file, int line,
                 const std::string& where);
Status CublasError(cublasStatus_t err, const char* call, const char* file, int line,
                   const std::string& where);

}  // namespace epsim::hw

// Each macro returns the failure from the enclosing function (one that
// returns Status or Result<T>); `where` is evaluated only on failure.
#define EPSIM_CUDA_CHECK(where, call)                                               \
  do {                                                                              \
    const cudaError_t epsim_cuda_err_ = (call);                                     \
    if (epsim_cuda_err_ != cudaSuccess)                                             \
      return ::epsim::hw::CudaError(epsim_cuda_err_, #call, __FILE__, __LINE__, (where)); \
  } while (0)

#define EPSIM_NCCL_CHECK(where, call)                                               \
  do {                                                                              \
    const ncclResult_t epsim_nccl_err_ = (call);                                    \
    if (epsim_nccl_err_ != ncclSuccess)                                             \
      return ::epsim::hw::NcclError(epsim_nccl_err_, #call, __FILE__, __LINE__, (where)); \
  } while (0)

// For calls on a non-blocking communicator, where ncclInProgress means
// "issued; poll ncclCommGetAsyncError for the outcome".
#define EPSIM_NCCL_CHECK_ASYNC(where, call)                                         \
  do {                                                                              \
    const ncclResult_t epsim_nccl_err_ = (call);                                    \
    if (epsim_nccl_err_ != ncclSuccess && epsim_nccl_err_ != ncclInProgress)        \
      return ::epsim::hw::NcclError(epsim_nccl_err_, #call, __FILE__, __LINE__, (where)); \
  } while (0)

#define EPSIM_CUBLAS_CHECK(where, call)                                             \
  do {                                                                              \
    const cublasStatus_t epsim_cublas_err_ = (call);                                \
    if (epsim_cublas_err_ != CUBLAS_STATUS_SUCCESS)                                 \
      return ::epsim::hw::CublasError(epsim_cublas_err_, #call, __FILE__, __LINE__, (where)); \
  } while (0)

#endif  // EPSIM_HW_CUDA_CUDA_CHECK_H_
