// What hw/cuda/cuda_backend.h promises before any GPU work: option checks,
// the device count and its "no device" message, the device of a rank.
// Runs everywhere, GPU or not.
#include "hw/cuda/cuda_backend.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "hw/cuda/nccl_comm.h"

namespace epsim::hw {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Each test is its own process (gtest_discover_tests), so this holds for
// the process's first CUDA call.
TEST(CudaBackendTest, NoVisibleDeviceIsNotFound) {
  ASSERT_EQ(setenv("CUDA_VISIBLE_DEVICES", "", 1), 0);
  const Result<int> count = CheckCudaDevice("host h rank 2");
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(count.status().ExitCode(), 2);
  EXPECT_TRUE(Contains(count.status().message(), "host h rank 2: no CUDA device visible "
                                                 "(cudaGetDeviceCount: "))
      << count.status().message();
}

// The NVIDIA driver's control node tells independently whether this
// machine has a GPU for the process.
TEST(CudaBackendTest, DeviceCountMatchesTheMachine) {
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  const bool expect_gpu = std::filesystem::exists("/dev/nvidiactl") &&
                          (visible == nullptr || (visible[0] != '\0' && visible[0] != '-'));
  const Result<int> count = CheckCudaDevice("host h rank 0");
  if (expect_gpu) {
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    EXPECT_GE(count.value(), 1);
  } else {
    ASSERT_FALSE(count.ok());
    EXPECT_TRUE(Contains(count.status().message(), "no CUDA device visible"))
        << count.status().message();
  }
}

TEST(CudaBackendTest, RefusesSeveralGpusPerProcess) {
  CudaOptions options;
  options.gpus_per_process = 2;
  const auto backend = MakeCudaBackend(nullptr, options);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), Status::Code::kUsage);
  EXPECT_TRUE(Contains(backend.status().message(), "-g 2: multi-GPU per process is not "
                                                   "supported yet"))
      << backend.status().message();
}

TEST(CudaBackendTest, DeviceOfRankUsesOpenMpiLocalRank) {
  ASSERT_EQ(setenv("OMPI_COMM_WORLD_LOCAL_RANK", "3", 1), 0);
  EXPECT_EQ(DeviceOfRank(10, 2), 1);
  EXPECT_EQ(DeviceOfRank(10, 8), 3);
  ASSERT_EQ(setenv("OMPI_COMM_WORLD_LOCAL_RANK", "x", 1), 0);
  EXPECT_EQ(DeviceOfRank(10, 8), 2);  // unparsable: the rank
  ASSERT_EQ(unsetenv("OMPI_COMM_WORLD_LOCAL_RANK"), 0);
  EXPECT_EQ(DeviceOfRank(5, 4), 1);
}

TEST(NcclCommTest, FormatRanksShortensLongLists) {
  EXPECT_EQ(FormatRanks({}), "none");
  EXPECT_EQ(FormatRanks({1, 2, 5}), "1,2,5");
  std::vector<uint32_t> many(20);
  for (uint32_t i = 0; i < many.size(); ++i) many[i] = i;
  EXPECT_EQ(FormatRanks(many), "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,... (20 ranks)");
}

TEST(NcclCommTest, VersionIsMajorMinorPatchOfTheHeadersMajor) {
  const std::string version = NcclComm::Version();
  EXPECT_TRUE(std::regex_match(version, std::regex(R"(\d+\.\d+\.\d+)"))) << version;
  EXPECT_EQ(version.substr(0, version.find('.')), std::to_string(NCCL_MAJOR)) << version;
}

}  // namespace
}  // namespace epsim::hw
