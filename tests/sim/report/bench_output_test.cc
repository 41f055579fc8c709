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
  WriteBench(out, format, RunInfo{.command = "bench allreduce"}, table);
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
  EXPECT_NE(text.find("# algbw = size / time, busbw = algbw x (n-1)/n for all-to-all(v), = "
                      "algbw for sendrecv (GB = 1e9 B)\n"),
            std::string::npos);
  EXPECT_NE(text.find("float    none      -1"), std::string::npos);
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
