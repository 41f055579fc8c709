// The nccl-tests-shaped bench table: the redop column and the metric line
// follow the table, in every format.
#include "sim/report/bench_output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>
#include <string>

namespace epsim::report {
namespace {

BenchTable AllReduceTable() {
  BenchTable table;
  table.redop = "sum";
  table.metrics = "algbw = size / time, busbw = algbw x 2(n-1)/n";
  BenchRow row;
  row.bytes = 1048576;
  row.count = 262144;
  row.time_s = 100e-6;
  row.algbw_gbps = 10.48576;
  row.busbw_gbps = 15.72864;
  table.rows.push_back(row);
  return table;
}

std::string Write(Format format, const BenchTable& table) {
  std::ostringstream out;
  RunInfo info;
  info.command = "bench allreduce";
  WriteBench(out, format, info, table);
  return out.str();
}

TEST(BenchOutputTest, ConsolePrintsTheRedOpAndTheTablesMetricLine) {
  const std::string text = Write(Format::kConsole, AllReduceTable());
  EXPECT_NE(text.find("# algbw = size / time, busbw = algbw x 2(n-1)/n\n"), std::string::npos);
  EXPECT_NE(text.find("     1048576        262144   float     sum      -1      100.00     10.49"
                      "     15.73     N/A\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# Avg bus bandwidth    : 15.7286\n"), std::string::npos);
}

TEST(BenchOutputTest, ConsoleKeepsTheAllToAllMetricLineByDefault) {
  BenchTable table = AllReduceTable();
  table.redop = "none";
  table.metrics.clear();
  const std::string text = Write(Format::kConsole, table);
  EXPECT_NE(text.find("# algbw = size / time, busbw = algbw x (n-1)/n for all-to-all, = "
                      "algbw for sendrecv (GB = 1e9 B)\n"),
            std::string::npos);
  EXPECT_NE(text.find("float    none      -1"), std::string::npos);
}

// nccl-tests' launch lines (src/util.cu's writeDeviceReport), exactly as
// it prints them, so that a simulated table pastes next to a real log.
TEST(BenchOutputTest, ConsolePrintsNcclTestsLaunchLinesAndFooter) {
  BenchTable table = AllReduceTable();
  BenchLaunch launch;
  launch.gpus_per_thread = 2;
  launch.min_bytes = 8;
  launch.max_bytes = 1048576;
  launch.step = 2;
  launch.warmup_iters = 5;
  launch.iters = 20;
  launch.ranks = {{0, 0, "host0", 0, "gpu0", "NVIDIA RTX A6000"},
                  {1, 0, "host0", 1, "gpu1", "NVIDIA RTX A6000"}};
  table.launch = launch;
  const std::string text = Write(Format::kConsole, table);
  EXPECT_NE(text.find("#\n# nThread 1 nGpus 2 minBytes 8 maxBytes 1048576 step: 2(factor) warmup "
                      "iters: 5 iters: 20 agg iters: 1 validation: 0 graph: 0 unalign: 0\n#\n"
                      "# Using devices\n"
                      "#  Rank  0 Group  0 Pid      0 on      host0 device  0 [gpu0] NVIDIA RTX A6000\n"
                      "#  Rank  1 Group  0 Pid      0 on      host0 device  1 [gpu1] NVIDIA RTX A6000\n"
                      "#\n# algbw"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n# Out of bounds values : 0 OK\n# Avg bus bandwidth    : 15.7286\n"),
            std::string::npos);
  // The lines come before the metric line; without a launch there are none.
  EXPECT_EQ(Write(Format::kConsole, AllReduceTable()).find("# nThread"), std::string::npos);
}

TEST(BenchOutputTest, LaunchLineNamesAnIncrementStep) {
  BenchTable table = AllReduceTable();
  BenchLaunch launch;
  launch.step_is_factor = false;
  launch.step = 1048576;
  launch.validation = 1;
  table.launch = launch;
  EXPECT_NE(Write(Format::kConsole, table)
                .find("step: 1048576(bytes) warmup iters: 1 iters: 20 agg iters: 1 validation: 1 "),
            std::string::npos);
}

TEST(BenchOutputTest, CsvAndJsonCarryTheRedOp) {
  EXPECT_NE(Write(Format::kCsv, AllReduceTable()).find("\n1048576,262144,float,sum,-1,100.000000,"),
            std::string::npos);
  const auto doc = nlohmann::json::parse(Write(Format::kJson, AllReduceTable()));
  EXPECT_EQ(doc["results"][0]["redop"], "sum");
  EXPECT_DOUBLE_EQ(doc["results"][0]["busbw_gbps"].get<double>(), 15.72864);
}

}  // namespace
}  // namespace epsim::report
