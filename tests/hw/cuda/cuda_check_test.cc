// The error messages of hw/cuda/cuda_check.h: they must name the place, the
// call and the library's words, and pick the exit-code class. No device
// needed: the error-string functions are host lookups.
#include "hw/cuda/cuda_check.h"

#include <gtest/gtest.h>

namespace epsim::hw {
namespace {

Status FailingCudaCall() {
  EPSIM_CUDA_CHECK("host h rank 3 device 1", cudaErrorMemoryAllocation);
  return Status::Ok();
}

Status FailingNcclCall() {
  EPSIM_NCCL_CHECK("host h rank 3 device 1", ncclRemoteError);
  return Status::Ok();
}

Status AsyncNcclCallInProgress() {
  EPSIM_NCCL_CHECK_ASYNC("host h rank 3 device 1", ncclInProgress);
  return Status::Ok();
}

Status FailingCublasCall() {
  EPSIM_CUBLAS_CHECK("host h rank 3 device 1", CUBLAS_STATUS_NOT_INITIALIZED);
  return Status::Ok();
}

TEST(CudaCheckTest, CudaErrorNamesPlaceCallAndError) {
  const Status st = FailingCudaCall();
  EXPECT_EQ(st.code(), Status::Code::kInternal);
  EXPECT_NE(st.message().find("host h rank 3 device 1: cudaErrorMemoryAllocation failed at "
                              "hw/cuda/cuda_check_test.cc:"),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find(cudaGetErrorString(cudaErrorMemoryAllocation)), std::string::npos);
}

TEST(CudaCheckTest, MissingDeviceIsNotFound) {
  const Status st = CudaError(cudaErrorNoDevice, "cudaSetDevice(0)", __FILE__, __LINE__, "here");
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_EQ(st.ExitCode(), 2);
}

TEST(CudaCheckTest, NcclRemoteErrorIsPeerFailure) {
  const Status st = FailingNcclCall();
  EXPECT_EQ(st.code(), Status::Code::kPeerFailure);
  EXPECT_NE(st.message().find(ncclGetErrorString(ncclRemoteError)), std::string::npos)
      << st.message();
}

TEST(CudaCheckTest, AsyncCheckAcceptsInProgress) { EXPECT_TRUE(AsyncNcclCallInProgress().ok()); }

TEST(CudaCheckTest, CublasErrorHasStatusName) {
  const Status st = FailingCublasCall();
  EXPECT_EQ(st.code(), Status::Code::kInternal);
  EXPECT_NE(st.message().find("CUBLAS_STATUS_NOT_INITIALIZED"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace epsim::hw
