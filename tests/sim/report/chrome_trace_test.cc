#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>
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
  EXPECT_EQ(complete, report.ops_size() + 4);  // 8 phases x 2 ranks, 2 blocks x 2 ranks
  EXPECT_EQ(process, "classical / contiguous");
  EXPECT_EQ(names, (std::set<std::string>{"GPU 0 compute", "GPU 0 comm", "GPU 1 compute",
                                          "GPU 1 comm"}));
  EXPECT_EQ(doc["traceEvents"].size(), 1u + 4u + 16u + 4u);
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

// Layer 0's compute (attention 0-10, expert 30-45) and layer 1's (65-75,
// 95-110) are one block slice each on every rank's compute track, and every
// compute op lies inside its block on the same track.
TEST(ChromeTraceTest, PhasesNestInBlockSlices) {
  const std::string path = TempPath("chrome_trace_blocks");
  ASSERT_TRUE(WriteChromeTrace(path, {MakeTwoLayerReport("classical")}).ok());
  const nlohmann::json doc = ReadJson(path);
  std::remove(path.c_str());
  std::vector<nlohmann::json> blocks, compute;
  for (const nlohmann::json& event : doc["traceEvents"]) {
    if (event["ph"] != "X") continue;
    if (event["cat"] == "block") blocks.push_back(event);
    if (event["cat"] == "compute") compute.push_back(event);
  }
  ASSERT_EQ(blocks.size(), 4u);
  for (const nlohmann::json& b : blocks) {
    const bool first = b["name"] == "block L0";
    EXPECT_TRUE(first || b["name"] == "block L1") << b.dump();
    EXPECT_EQ(b["tid"].get<int>() % 2, 0);  // compute tracks
    EXPECT_NEAR(b["ts"].get<double>(), first ? 0.0 : 65.0, 1e-9);
    EXPECT_NEAR(b["dur"].get<double>(), 45.0, 1e-9);
    EXPECT_EQ(b["args"]["phases"].get<int>(), 2);
  }
  ASSERT_EQ(compute.size(), 8u);
  for (const nlohmann::json& op : compute) {
    const double ts = op["ts"].get<double>(), end = ts + op["dur"].get<double>();
    int inside = 0;
    for (const nlohmann::json& b : blocks)
      inside += b["tid"] == op["tid"] && b["ts"].get<double>() <= ts + 1e-9 &&
                end <= b["ts"].get<double>() + b["dur"].get<double>() + 1e-9;
    EXPECT_EQ(inside, 1) << op.dump();
  }
}

// With the plan, each all-to-all draws an arrow from every sender's op to
// every receiver's op it sends bytes to, and none for a pair without bytes.
TEST(ChromeTraceTest, FlowArrowsGoFromEachSendToItsReceive) {
  const proto::Report report = MakeTwoLayerReport("classical");
  proto::Schedule schedule;
  for (const proto::PhaseTiming& timing : report.phases()) {
    proto::Phase* p = schedule.add_phases();
    p->set_id(timing.phase());
    p->set_kind(timing.kind());
    if (timing.kind() != proto::DISPATCH && timing.kind() != proto::COMBINE) continue;
    // [src][dst]: phase 1 (layer 0's dispatch) sends 0 -> 1 only.
    const bool one_way = timing.phase() == 1;
    for (uint64_t b : {uint64_t{0}, uint64_t{1000}, one_way ? uint64_t{0} : uint64_t{500},
                       uint64_t{0}})
      p->add_send_bytes(b);
  }
  const std::string path = TempPath("chrome_trace_flows");
  const std::vector<proto::Schedule> schedules = {schedule};
  ASSERT_TRUE(WriteChromeTrace(path, {report}, &schedules).ok());
  const nlohmann::json doc = ReadJson(path);
  std::remove(path.c_str());
  std::map<uint64_t, nlohmann::json> starts, finishes;
  for (const nlohmann::json& event : doc["traceEvents"]) {
    if (event["ph"] == "s") starts[event["id"].get<uint64_t>()] = event;
    if (event["ph"] == "f") finishes[event["id"].get<uint64_t>()] = event;
  }
  ASSERT_EQ(starts.size(), 7u);  // 4 all-to-alls x 2 directions, less phase 1's 1 -> 0
  ASSERT_EQ(finishes.size(), 7u);
  int layer0_dispatch = 0;
  for (const auto& [id, s] : starts) {
    const nlohmann::json& f = finishes.at(id);
    EXPECT_EQ(s["name"], f["name"]);
    EXPECT_NE(s["tid"], f["tid"]);  // another rank's comm track
    EXPECT_EQ(s["tid"].get<int>() % 2, 1);
    EXPECT_EQ(f["bp"], "e");
    if (s["name"] == "dispatch L0") {
      ++layer0_dispatch;
      EXPECT_EQ(s["tid"], 1);  // from rank 0 to rank 1
      EXPECT_EQ(f["tid"], 3);
      EXPECT_NEAR(s["ts"].get<double>(), 10.0, 1e-9);            // the send's start
      EXPECT_GT(f["ts"].get<double>(), 10.0);                    // inside the receive (10-30)
      EXPECT_LT(f["ts"].get<double>(), 30.0);
      EXPECT_EQ(s["args"]["bytes"].get<uint64_t>(), 1000u);
    }
  }
  EXPECT_EQ(layer0_dispatch, 1);
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
