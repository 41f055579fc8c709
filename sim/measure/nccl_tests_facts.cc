// What nccl-tests computes for each test (src/<test>.cu: GetCollByteCount
// and GetBw) and the types it names (src/common.cu); see nccl_tests_log.h.
#include <map>
#include <regex>
#include <string>

#include "sim/measure/nccl_tests_log.h"

namespace epsim::measure {

namespace {

const std::map<NcclTest, std::string>& TestNames() {
  static const std::map<NcclTest, std::string> kNames = {
      {NcclTest::kAllReduce, "all_reduce"},
      {NcclTest::kAllGather, "all_gather"},
      {NcclTest::kReduceScatter, "reduce_scatter"},
      {NcclTest::kAllToAll, "alltoall"},
      {NcclTest::kSendRecv, "sendrecv"},
      {NcclTest::kBroadcast, "broadcast"},
      {NcclTest::kReduce, "reduce"},
      {NcclTest::kGather, "gather"},
      {NcclTest::kScatter, "scatter"}};
  return kNames;
}

// Tests whose count is one rank's share of the printed size.
bool PerRankCount(NcclTest test) {
  return test == NcclTest::kAllGather || test == NcclTest::kReduceScatter ||
         test == NcclTest::kAllToAll || test == NcclTest::kGather || test == NcclTest::kScatter;
}

}  // namespace

std::string NcclTestName(NcclTest test) { return TestNames().at(test); }

std::optional<NcclTest> NcclTestFromName(const std::string& name) {
  static const std::regex kName("(.*/)?([a-z_]+?)(_perf(_mpi)?)?");
  std::smatch m;
  if (!std::regex_match(name, m, kName)) return std::nullopt;
  for (const auto& [test, test_name] : TestNames())
    if (test_name == m[2].str()) return test;
  return std::nullopt;
}

double BusBwFactor(NcclTest test, int num_ranks) {
  const double n = num_ranks;
  if (test == NcclTest::kAllReduce) return 2 * (n - 1) / n;
  if (PerRankCount(test)) return (n - 1) / n;
  return 1;  // sendrecv, broadcast, reduce
}

bool BusBwFactorDependsOnRanks(NcclTest test) {
  return test == NcclTest::kAllReduce || PerRankCount(test);
}

int SizeCountRatio(NcclTest test, int num_ranks) { return PerRankCount(test) ? num_ranks : 1; }

std::optional<int> NcclTypeBytes(const std::string& type) {
  static const std::map<std::string, int> kBytes = {
      {"int8", 1},   {"uint8", 1},    {"char", 1},   {"int32", 4}, {"uint32", 4},
      {"int", 4},    {"int64", 8},    {"uint64", 8}, {"half", 2},  {"float", 4},
      {"double", 8}, {"bfloat16", 2}, {"f8e4m3", 1}, {"f8e5m2", 1}};
  const auto it = kBytes.find(type);
  if (it == kBytes.end()) return std::nullopt;
  return it->second;
}

}  // namespace epsim::measure
