#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "sim/report/report.h"
#include "tests/sim/report/report_fixture.h"

namespace epsim::report {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "." + std::to_string(::getpid()) + ".json"))
      .string();
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());  // throws (test fails) on invalid JSON
}

TEST(ChromeTraceTest, WritesValidJsonWithThreadNamesAndOneEventPerOp) {
  const std::string path = TempPath("chrome_trace_test");
  const proto::Report report = MakeTwoLayerReport("classical");
  ASSERT_TRUE(WriteChromeTrace(path, {report}).ok());
  const nlohmann::json doc = ReadJson(path);
  std::remove(path.c_str());

  std::set<std::string> names;
  std::string process;
  int complete = 0;
  for (const nlohmann::json& event : doc["traceEvents"]) {
    if (event["ph"] == "X") {
      ++complete;
      EXPECT_GE(event["dur"].get<double>(), 0.0);
    } else if (event["name"] == "thread_name") {
      names.insert(event["args"]["name"].get<std::string>());
    } else if (event["name"] == "process_name") {
      process = event["args"]["name"].get<std::string>();
    }
  }
  EXPECT_EQ(complete, report.ops_size());  // 8 phases x 2 ranks
  EXPECT_EQ(process, "classical / contiguous");
  EXPECT_EQ(names, (std::set<std::string>{"GPU 0 compute", "GPU 0 comm", "GPU 1 compute",
                                          "GPU 1 comm"}));
  EXPECT_EQ(doc["traceEvents"].size(), 1u + 4u + 16u);
}

TEST(ChromeTraceTest, NamesEventsByPhaseAndLayerInMicroseconds) {
  const std::string path = TempPath("chrome_trace_names");
  ASSERT_TRUE(WriteChromeTrace(path, {MakeTwoLayerReport("classical")}).ok());
  const nlohmann::json doc = ReadJson(path);
  std::remove(path.c_str());
  bool found = false;
  for (const nlohmann::json& event : doc["traceEvents"]) {
    if (event["ph"] != "X" || event["name"] != "dispatch L1" || event["tid"] != 3) continue;
    found = true;  // rank 1's comm thread
    EXPECT_NEAR(event["ts"].get<double>(), 75.0, 1e-9);
    EXPECT_NEAR(event["dur"].get<double>(), 20.0, 1e-9);
    EXPECT_EQ(event["args"]["bytes"].get<uint64_t>(), 7000u);
  }
  EXPECT_TRUE(found);
}

TEST(ChromeTraceTest, RejectsOpOfUnknownPhaseAndWritesNothing) {
  const std::string path = TempPath("chrome_trace_bad");
  proto::Report report = MakeTwoLayerReport("classical");
  report.mutable_ops(0)->set_phase(99);
  Status status = WriteChromeTrace(path, {report});
  EXPECT_EQ(status.code(), Status::Code::kBadInput);
  EXPECT_NE(status.message().find("phase 99"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace epsim::report
