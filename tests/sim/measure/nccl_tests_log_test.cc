// nccl-tests tables (sim/measure/nccl_tests_log.h): every table of the
// published logs in ../shared/measurements with facts read off the files,
// a hand-written table round trip, the older and newer layouts, and each
// kind of broken input.
#include "sim/measure/nccl_tests_log.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "sim/base/file_util.h"
#include "sim/measure/log_text.h"
#include "tests/testing/shared_logs.h"

namespace epsim::measure {
namespace {

#define SKIP_WITHOUT_SHARED(text) EPSIM_SKIP_WITHOUT_SHARED_LOG(text, "published nccl-tests logs")
using ::epsim::testing::kMeasurements;
using ::epsim::testing::SharedLog;

std::vector<NcclTestsTable> Parse(const std::string& text, const std::string& file = "test.txt",
                                  std::optional<NcclTest> test = std::nullopt) {
  Result<std::vector<NcclTestsTable>> tables = ParseNcclTestsLog(text, file, test);
  EXPECT_TRUE(tables.ok()) << tables.status().ToString();
  return tables.ok() ? *tables : std::vector<NcclTestsTable>();
}

std::string ParseError(const std::string& text, std::optional<NcclTest> test = std::nullopt) {
  Result<std::vector<NcclTestsTable>> tables = ParseNcclTestsLog(text, "bad.txt", test);
  EXPECT_FALSE(tables.ok()) << "parsed:\n" << text;
  if (tables.ok()) return "";
  EXPECT_EQ(tables.status().code(), Status::Code::kBadInput);
  return tables.status().message();
}

// The message starts with `where` ("bad.txt:14:") and holds `what`.
void ExpectError(const std::string& text, const std::string& where, const std::string& what,
                 std::optional<NcclTest> test = std::nullopt) {
  const std::string message = ParseError(text, test);
  EXPECT_EQ(message.rfind(where, 0), 0u) << message;
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

// ---------------------------------------------------------------------------
// The published logs.

TEST(NcclTestsLogTest, EveryTableOfTheSharedLogs) {
  SKIP_WITHOUT_SHARED(SharedLog("README.md"));
  // file -> the test of each table, in order (read off the files).
  const std::map<std::string, std::vector<std::string>> want = {
      {"a100-x8-nvswitch-sendrecv.txt", {"sendrecv"}},
      {"a100pcie-2node-hdr-ib-allreduce.txt", {"all_reduce", "all_reduce"}},
      {"l40s-2node-roce-vs-tcp-allreduce.txt", {"all_reduce", "all_reduce"}},
      {"rtx2080ti-x2-pcie-switch-shm.txt",
       {"all_reduce", "all_gather", "broadcast", "reduce", "reduce"}},
      {"rtx5090-x4-pcie-shm-allreduce.txt", {"all_reduce", "all_reduce"}},
  };
  for (const auto& [file, tests] : want) {
    const std::vector<NcclTestsTable> tables = Parse(SharedLog(file), file);
    ASSERT_EQ(tables.size(), tests.size()) << file;
    for (size_t k = 0; k < tests.size(); ++k) EXPECT_EQ(NcclTestName(tables[k].test), tests[k]);
  }
  // The two rtx4090 files hold p2pBandwidthLatencyTest output only.
  for (const char* file :
       {"rtx4090-x3-p2p-on-off-bidir.txt", "rtx4090-x6-amd-p2p-vs-staged-partial.txt"}) {
    const std::string message = ParseError(SharedLog(file));
    EXPECT_NE(message.find("no nccl-tests table"), std::string::npos) << message;
  }
}

TEST(NcclTestsLogTest, ReadsA100SendRecvCopiedWithoutHeader) {
  const std::string text = SharedLog("a100-x8-nvswitch-sendrecv.txt");
  SKIP_WITHOUT_SHARED(text);
  const std::vector<NcclTestsTable> tables = Parse(text);
  ASSERT_EQ(tables.size(), 1u);
  const NcclTestsTable& t = tables[0];
  EXPECT_EQ(t.test, NcclTest::kSendRecv);
  EXPECT_EQ(t.command, "./build/sendrecv_perf -b 128M -e 1G -f 2 -g 8");
  EXPECT_EQ(t.command_line, 12);
  EXPECT_EQ(t.header_line, 15);  // no `# nThread`: the column names
  EXPECT_EQ(t.columns_line, 15);
  EXPECT_EQ(t.num_threads, 0);
  EXPECT_TRUE(t.ranks.empty());
  EXPECT_EQ(t.num_ranks, 8);  // -g 8 in one process
  EXPECT_TRUE(t.num_ranks_from_command);
  ASSERT_EQ(t.rows.size(), 4u);
  const NcclTestsRow& first = t.rows[0];
  EXPECT_EQ(first.size_bytes, 134217728u);
  EXPECT_EQ(first.count, 33554432u);
  EXPECT_EQ(first.type, "float");
  EXPECT_EQ(first.redop, "sum");
  EXPECT_EQ(first.root, -1);
  EXPECT_DOUBLE_EQ(first.time_us[0], 1211.2);
  EXPECT_DOUBLE_EQ(first.algbw_gbps[0], 110.81);
  EXPECT_EQ(first.wrong[0], 0);
  EXPECT_EQ(first.wrong[1], -1);  // N/A
  EXPECT_EQ(first.line, 17);
  const NcclTestsRow& last = t.rows[3];
  EXPECT_EQ(last.size_bytes, 1073741824u);
  EXPECT_DOUBLE_EQ(last.time_us[1], 5490.5);
  EXPECT_DOUBLE_EQ(last.busbw_gbps[0], 195.10);
  EXPECT_DOUBLE_EQ(last.busbw_gbps[1], 195.56);
  EXPECT_FALSE(t.avg_busbw_gbps.has_value());  // the copy stops at the last row
}

TEST(NcclTestsLogTest, ReadsA100TwoNodeRunsThroughNcclInfoLines) {
  const std::string text = SharedLog("a100pcie-2node-hdr-ib-allreduce.txt");
  SKIP_WITHOUT_SHARED(text);
  const std::vector<NcclTestsTable> tables = Parse(text);
  ASSERT_EQ(tables.size(), 2u);
  for (const NcclTestsTable& t : tables) {
    EXPECT_EQ(t.test, NcclTest::kAllReduce);
    EXPECT_EQ(t.num_threads, 1);
    EXPECT_EQ(t.gpus_per_thread, 1);
    EXPECT_EQ(t.min_bytes, 8u);
    EXPECT_EQ(t.max_bytes, 1073741824u);
    EXPECT_EQ(t.step, 2u);
    EXPECT_TRUE(t.step_is_factor);
    EXPECT_EQ(t.warmup_iters, 5);
    EXPECT_EQ(t.iters, 20);
    EXPECT_EQ(t.num_ranks, 2);
    EXPECT_EQ(t.num_processes, 2);  // mpirun -np 2, two Pids
    ASSERT_EQ(t.ranks.size(), 2u);
    EXPECT_EQ(t.ranks[0].host, "test1");
    EXPECT_EQ(t.ranks[1].host, "test2");
    EXPECT_EQ(t.ranks[1].device, 0);
    EXPECT_EQ(t.ranks[1].bus_id, "0x81");
    EXPECT_EQ(t.ranks[0].device_name, "NVIDIA A100-PCIE-40GB");
    ASSERT_EQ(t.rows.size(), 28u);
    EXPECT_EQ(t.rows.front().size_bytes, 8u);
    EXPECT_EQ(t.rows.back().size_bytes, 1073741824u);
    EXPECT_EQ(t.out_of_bounds, 0);
  }
  const NcclTestsTable& gdr = tables[0];
  EXPECT_EQ(gdr.header_line, 18);
  EXPECT_EQ(gdr.columns_line, 50);
  EXPECT_EQ(gdr.ranks[0].pid, 5425);
  EXPECT_EQ(gdr.ranks[1].line, 22);
  EXPECT_NE(gdr.command.find("-x NCCL_NET_GDR_LEVEL=SYS"), std::string::npos);
  EXPECT_EQ(gdr.rows[18].line, 70);
  EXPECT_EQ(gdr.rows[18].size_bytes, 2097152u);
  EXPECT_DOUBLE_EQ(gdr.rows[18].time_us[0], 365.5);
  EXPECT_DOUBLE_EQ(gdr.rows[18].busbw_gbps[0], 5.74);
  EXPECT_DOUBLE_EQ(gdr.rows.back().time_us[0], 166733);
  EXPECT_DOUBLE_EQ(gdr.rows.back().busbw_gbps[1], 6.43);
  EXPECT_DOUBLE_EQ(*gdr.avg_busbw_gbps, 2.36313);
  const NcclTestsTable& nps4 = tables[1];
  EXPECT_EQ(nps4.command_line, 88);
  EXPECT_EQ(nps4.rows[25].line, 131);
  EXPECT_DOUBLE_EQ(nps4.rows[25].time_us[0], 29841);
  EXPECT_DOUBLE_EQ(nps4.rows[25].busbw_gbps[0], 9.00);
  EXPECT_DOUBLE_EQ(*nps4.avg_busbw_gbps, 3.60188);
}

TEST(NcclTestsLogTest, ReadsL40sRunsWithMemoryLimitAndTwoGpusPerProcess) {
  const std::string text = SharedLog("l40s-2node-roce-vs-tcp-allreduce.txt");
  SKIP_WITHOUT_SHARED(text);
  const std::vector<NcclTestsTable> tables = Parse(text);
  ASSERT_EQ(tables.size(), 2u);
  const NcclTestsTable& tcp = tables[0];
  EXPECT_EQ(tcp.gpus_per_thread, 1);
  EXPECT_EQ(tcp.max_bytes, 17179869184u);  // -e 16G
  EXPECT_EQ(tcp.reduced_max_bytes, 15534478677u);
  EXPECT_EQ(tcp.num_ranks, 2);
  EXPECT_EQ(tcp.ranks[1].host, "nvidiatools-30-workload");
  EXPECT_EQ(tcp.ranks[1].bus_id, "0000:61:00");
  EXPECT_EQ(tcp.ranks[1].device_name, "NVIDIA L40S");
  ASSERT_EQ(tcp.rows.size(), 31u);
  EXPECT_EQ(tcp.rows.back().size_bytes, 8589934592u);  // 16 GB did not fit
  EXPECT_DOUBLE_EQ(tcp.rows.back().time_us[0], 1059765);
  EXPECT_DOUBLE_EQ(tcp.rows.back().busbw_gbps[0], 8.11);
  EXPECT_DOUBLE_EQ(*tcp.avg_busbw_gbps, 3.98762);
  const NcclTestsTable& rdma = tables[1];
  EXPECT_EQ(rdma.header_line, 55);
  EXPECT_EQ(rdma.gpus_per_thread, 2);  // -g 2
  EXPECT_EQ(rdma.num_ranks, 4);        // x 2 processes
  EXPECT_EQ(rdma.num_processes, 2);
  EXPECT_EQ(rdma.ranks[3].pid, 11317);
  EXPECT_EQ(rdma.ranks[3].device, 1);
  EXPECT_EQ(rdma.ranks[3].bus_id, "0000:e1:00");
  EXPECT_NE(rdma.command.find(" all_reduce_perf -b 8"), std::string::npos);  // no path
  ASSERT_EQ(rdma.rows.size(), 31u);
  // all_reduce over 4 ranks: busbw = algbw x 1.5.
  EXPECT_DOUBLE_EQ(rdma.rows[21].algbw_gbps[0], 6.40);
  EXPECT_DOUBLE_EQ(rdma.rows[21].busbw_gbps[0], 9.60);
  EXPECT_DOUBLE_EQ(rdma.rows.back().time_us[1], 1340024);
  EXPECT_DOUBLE_EQ(rdma.rows.back().busbw_gbps[0], 9.63);
  EXPECT_DOUBLE_EQ(*rdma.avg_busbw_gbps, 4.74277);
}

TEST(NcclTestsLogTest, ReadsRtx2080TiFourTestsAndOneRankReduce) {
  const std::string text = SharedLog("rtx2080ti-x2-pcie-switch-shm.txt");
  SKIP_WITHOUT_SHARED(text);
  const std::vector<NcclTestsTable> t = Parse(text);
  ASSERT_EQ(t.size(), 5u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(t[k].num_ranks, 2);
    EXPECT_EQ(t[k].num_processes, 1);
    EXPECT_EQ(t[k].gpus_per_thread, 2);
    EXPECT_EQ(t[k].ranks[1].bus_id, "0000:b5:00");
    EXPECT_EQ(t[k].ranks[1].device_name, "NVIDIA GeForce RTX 2080 Ti");
    EXPECT_EQ(t[k].rows.size(), 28u);
    EXPECT_EQ(t[k].rows.back().size_bytes, 1073741824u);
  }
  EXPECT_EQ(t[0].header_line, 203);
  EXPECT_DOUBLE_EQ(t[0].rows.back().time_us[0], 268588);
  EXPECT_DOUBLE_EQ(*t[0].avg_busbw_gbps, 2.05774);
  // all_gather: size is the whole gathered buffer, count one rank's share,
  // trimmed to 16 bytes per rank (8 B and 16 B print as 0).
  const NcclTestsTable& gather = t[1];
  EXPECT_EQ(gather.rows[0].size_bytes, 0u);
  EXPECT_EQ(gather.rows[1].size_bytes, 0u);
  EXPECT_EQ(gather.rows[2].size_bytes, 32u);
  EXPECT_EQ(gather.rows[2].count, 4u);
  EXPECT_EQ(gather.rows[2].redop, "none");
  EXPECT_DOUBLE_EQ(gather.rows[0].time_us[1], 0.36);
  EXPECT_DOUBLE_EQ(gather.rows.back().busbw_gbps[1], 3.84);  // 7.69 x 1/2
  EXPECT_FALSE(gather.legacy_algbw);
  EXPECT_DOUBLE_EQ(*gather.avg_busbw_gbps, 1.6651);
  EXPECT_EQ(t[2].test, NcclTest::kBroadcast);
  EXPECT_EQ(t[2].rows[0].root, 0);
  EXPECT_EQ(t[2].rows[0].line, 296);
  EXPECT_DOUBLE_EQ(t[2].rows[17].time_us[1], 288.1);  // the in-place dip at 1 MB
  EXPECT_DOUBLE_EQ(*t[2].avg_busbw_gbps, 5.07658);
  EXPECT_DOUBLE_EQ(*t[3].avg_busbw_gbps, 5.23248);
  // One rank: an in-place reduce copies nothing, 0.19 us at every size,
  // and algbw runs to millions of GB/s, printed wider than its column.
  const NcclTestsTable& one = t[4];
  EXPECT_EQ(one.num_ranks, 1);
  EXPECT_EQ(one.gpus_per_thread, 1);
  EXPECT_EQ(one.rows.back().line, 407);
  EXPECT_DOUBLE_EQ(one.rows.back().time_us[0], 4016.0);
  EXPECT_DOUBLE_EQ(one.rows.back().time_us[1], 0.19);
  EXPECT_DOUBLE_EQ(one.rows.back().algbw_gbps[1], 5706839.35);
  EXPECT_DOUBLE_EQ(*one.avg_busbw_gbps, 202818);
}

TEST(NcclTestsLogTest, ReadsRtx5090CrashedRunAndFourGpuTable) {
  const std::string text = SharedLog("rtx5090-x4-pcie-shm-allreduce.txt");
  SKIP_WITHOUT_SHARED(text);
  const std::vector<NcclTestsTable> t = Parse(text);
  ASSERT_EQ(t.size(), 2u);
  // (1) died in its first all_reduce (the NCCL 2.25 sm_120 bug): a header,
  // no rows, and the failure named.
  const NcclTestsTable& crashed = t[0];
  EXPECT_EQ(crashed.num_ranks, 2);
  EXPECT_EQ(crashed.ranks[1].bus_id, "0x61");
  EXPECT_EQ(crashed.columns_line, 64);
  EXPECT_TRUE(crashed.rows.empty());
  EXPECT_EQ(crashed.failure_line, 73);
  EXPECT_NE(crashed.failure.find("NCCL WARN Cuda failure 1 'invalid argument'"), std::string::npos);
  EXPECT_FALSE(crashed.avg_busbw_gbps.has_value());
  // (3) NCCL 2.26.2, 4 GPUs in one process.
  const NcclTestsTable& four = t[1];
  EXPECT_EQ(four.command_line, 127);
  EXPECT_EQ(four.num_ranks, 4);
  EXPECT_EQ(four.num_processes, 1);
  EXPECT_EQ(four.ranks[3].pid, 2168673);
  EXPECT_EQ(four.ranks[3].host, "GENOA-01");
  EXPECT_EQ(four.ranks[3].device_name, "NVIDIA GeForce RTX 5090");
  EXPECT_TRUE(four.failure.empty());
  ASSERT_EQ(four.rows.size(), 25u);
  EXPECT_EQ(four.rows.back().size_bytes, 134217728u);
  EXPECT_DOUBLE_EQ(four.rows.back().time_us[0], 7384.4);
  EXPECT_DOUBLE_EQ(four.rows.back().algbw_gbps[0], 18.18);
  EXPECT_DOUBLE_EQ(four.rows.back().busbw_gbps[0], 27.26);
  EXPECT_DOUBLE_EQ(*four.avg_busbw_gbps, 9.09703);
}

TEST(NcclTestsLogTest, SharedLogsFailWithAnotherTestsName) {
  const std::string text = SharedLog("l40s-2node-roce-vs-tcp-allreduce.txt");
  SKIP_WITHOUT_SHARED(text);
  // The log names all_reduce_perf: a contradicting test is refused ...
  ExpectError(text, "bad.txt:6:", "runs all_reduce_perf but the test given is all_gather",
              NcclTest::kAllGather);
  // ... and without the command lines the figures refuse it.
  std::string bare = text;
  for (size_t at; (at = bare.find("all_reduce_perf")) != std::string::npos;)
    bare.replace(at, 15, "a_script.sh");
  ExpectError(bare, "bad.txt:19:", "size 8 B is not count 2 x 4 B (float) x 2 ranks",
              NcclTest::kAllGather);
  ExpectError(bare, "bad.txt:7:", "pass the test name");
  EXPECT_EQ(Parse(bare, "x", NcclTest::kAllReduce).size(), 2u);
}

// ---------------------------------------------------------------------------
// A hand-written table: all_reduce, 4 GPUs in one process. Its figures are
// those nccl-tests printed for the 5090 log (consistent by construction).

const char* kGood =
    "$ ./build/all_reduce_perf -b 1K -e 128M -f 128 -g 4\n"
    "# nThread 1 nGpus 4 minBytes 1024 maxBytes 134217728 step: 128(factor) warmup iters: 5 "
    "iters: 20 agg iters: 1 validation: 1 graph: 0\n"
    "#\n"
    "# Using devices\n"
    "#  Rank  0 Group  0 Pid   1234 on      box-a device  0 [0x01] NVIDIA GeForce RTX 5090\n"
    "#  Rank  1 Group  0 Pid   1234 on      box-a device  1 [0x21] NVIDIA GeForce RTX 5090\n"
    "#  Rank  2 Group  0 Pid   1234 on      box-a device  2 [0x41] NVIDIA GeForce RTX 5090\n"
    "#  Rank  3 Group  0 Pid   1234 on      box-a device  3 [0x61] NVIDIA GeForce RTX 5090\n"
    "#\n"
    "#                                                              out-of-place                 "
    "      in-place\n"
    "#       size         count      type   redop    root     time   algbw   busbw #wrong     "
    "time   algbw   busbw #wrong\n"
    "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            "
    "(us)  (GB/s)  (GB/s)\n"
    "        1024           256     float     sum      -1    15.88    0.06    0.10      0    "
    "15.70    0.07    0.10      0\n"
    "      131072         32768     float     sum      -1    35.19    3.72    5.59      0    "
    "34.79    3.77    5.65      0\n"
    "    16777216       4194304     float     sum      -1    935.7   17.93   26.90      0    "
    "934.5   17.95   26.93      0\n"
    "# Out of bounds values : 0 OK\n"
    "# Avg bus bandwidth    : 10.8783 \n"
    "#\n";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// kGood with line `line` (1-based) replaced by `text`.
std::string WithLine(int line, const std::string& text) {
  std::vector<std::string> lines = Lines(kGood);
  lines[line - 1] = text;
  return Join(lines);
}

// kGood with lines [from, to] (1-based) removed.
std::string WithoutLines(int from, int to) {
  std::vector<std::string> lines = Lines(kGood);
  lines.erase(lines.begin() + from - 1, lines.begin() + to);
  return Join(lines);
}

// kGood's row of line `line` with field `field` (0-based) set to `value`.
std::string WithField(int line, int field, const std::string& value) {
  std::vector<std::string> fields = Tokens(Lines(kGood)[line - 1]);
  fields[field] = value;
  std::string row;
  for (const std::string& f : fields) row += "  " + f;
  return WithLine(line, row);
}

TEST(NcclTestsLogTest, ReadsHandWrittenTable) {
  const std::vector<NcclTestsTable> tables = Parse(kGood, "good.txt");
  ASSERT_EQ(tables.size(), 1u);
  const NcclTestsTable& t = tables[0];
  EXPECT_EQ(t.file, "good.txt");
  EXPECT_EQ(t.test, NcclTest::kAllReduce);
  EXPECT_EQ(t.command_line, 1);
  EXPECT_EQ(t.header_line, 2);
  EXPECT_EQ(t.columns_line, 11);
  EXPECT_EQ(t.step, 128u);
  EXPECT_EQ(t.num_ranks, 4);
  EXPECT_EQ(t.columns.size(), 13u);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[1].line, 14);
  EXPECT_EQ(t.rows[1].count, 32768u);
  EXPECT_DOUBLE_EQ(t.rows[1].time_us[1], 34.79);
  EXPECT_DOUBLE_EQ(t.rows[1].busbw_gbps[1], 5.65);
  EXPECT_DOUBLE_EQ(*t.avg_busbw_gbps, 10.8783);
  EXPECT_EQ(t.avg_busbw_line, 17);
}

// What nccl-tests 2.13-2.17 prints for a row (src/common.cu: "%12li  %12li
// %8s  %6s  %6s", then per half "  %7s  %6.2f  %6.2f  %6g" with the time
// "%7.0f" from 10000 us, "%7.1f" from 100 us, else "%7.2f").
std::string PrintRow(const NcclTestsRow& r) {
  auto time = [](double us) {
    return us >= 10000 ? fmt::format("{:7.0f}", us)
           : us >= 100 ? fmt::format("{:7.1f}", us)
                       : fmt::format("{:7.2f}", us);
  };
  std::string out = fmt::format("{:12}  {:12}  {:>8}  {:>6}  {:6}", r.size_bytes, r.count, r.type,
                                r.redop, r.root);
  for (int h = 0; h < 2; ++h)
    out += fmt::format("  {:>7}  {:6.2f}  {:6.2f}  {:>6}", time(r.time_us[h]), r.algbw_gbps[h],
                       r.busbw_gbps[h], r.wrong[h] < 0 ? "N/A" : std::to_string(r.wrong[h]));
  return out;
}

TEST(NcclTestsLogTest, RoundTripsRowsAsNcclTestsPrintsThem) {
  // Rows printed from figures computed as nccl-tests does (alltoall, 8
  // ranks: size = count x 4 B x 8, busbw = algbw x 7/8), read back and
  // printed again.
  std::string text =
      "$ mpirun -np 2 ./alltoall_perf -g 4 -b 1M -e 64M -f 4\n"
      "#       size         count      type   redop    root     time   algbw   busbw #wrong     "
      "time   algbw   busbw #wrong\n"
      "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            "
      "(us)  (GB/s)  (GB/s)\n";
  std::vector<NcclTestsRow> rows;
  const double times_us[4][2] = {
      {48.123, 47.9}, {171.04, 170.96}, {812.5, 799.49}, {10442.3, 9999.4}};
  for (int k = 0; k < 4; ++k) {
    NcclTestsRow r;
    r.size_bytes = uint64_t(1) << (20 + 2 * k);
    r.count = r.size_bytes / 4 / 8;
    r.type = "float";
    r.redop = "none";
    for (int h = 0; h < 2; ++h) {
      r.time_us[h] = times_us[k][h];
      r.algbw_gbps[h] = double(r.size_bytes) / 1e9 / (r.time_us[h] * 1e-6);
      r.busbw_gbps[h] = r.algbw_gbps[h] * BusBwFactor(NcclTest::kAllToAll, 8);
      r.wrong[h] = h == 0 ? 0 : -1;
    }
    rows.push_back(r);
    text += PrintRow(r) + "\n";
  }
  const std::vector<NcclTestsTable> tables = Parse(text);
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].test, NcclTest::kAllToAll);
  EXPECT_EQ(tables[0].num_ranks, 8);  // 2 processes x 4 GPUs
  ASSERT_EQ(tables[0].rows.size(), 4u);
  std::string again = Join({Lines(text)[0], Lines(text)[1], Lines(text)[2]});
  for (const NcclTestsRow& r : tables[0].rows) again += PrintRow(r) + "\n";
  EXPECT_EQ(again, text);
  EXPECT_EQ(tables[0].rows[3].size_bytes, 67108864u);
  EXPECT_DOUBLE_EQ(tables[0].rows[3].time_us[0], 10442);  // as printed, not 10442.3
}

// ---------------------------------------------------------------------------
// Broken inputs.

TEST(NcclTestsLogTest, RejectsTruncatedTables) {
  ExpectError(WithoutLines(13, 18), "bad.txt:11:", "table header with no rows (a truncated copy?)");
  ExpectError(WithoutLines(9, 18), "bad.txt:2:", "no column names and no rows");
  ExpectError(WithoutLines(12, 18), "bad.txt:12:", "want the units line");
}

TEST(NcclTestsLogTest, AcceptsARunThatFailedBeforeItsRows) {
  std::vector<std::string> lines = Lines(WithoutLines(13, 18));
  lines.push_back(
      "box-a:1234:1240 [2] enqueue.cc:1500 NCCL WARN Cuda failure 1 'invalid argument'");
  lines.push_back(" .. box-a pid 1234: Test failure common.cu:1279");
  const std::vector<NcclTestsTable> tables = Parse(Join(lines));
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_TRUE(tables[0].rows.empty());
  EXPECT_EQ(tables[0].failure_line, 13);
}

TEST(NcclTestsLogTest, RejectsWrongColumnCount) {
  ExpectError(WithLine(14,
                       "      131072         32768     float     sum      -1    35.19    3.72    "
                       "5.59      0    34.79    3.77    5.65"),
              "bad.txt:14:", "12 fields, the column names (line 11) give 13");
}

TEST(NcclTestsLogTest, RejectsMixedUnits) {
  // A units line in ms ...
  ExpectError(WithLine(12,
                       "#        (B)    (elements)                               (ms)  (GB/s)  "
                       "(GB/s)            (us)  (GB/s)  (GB/s)"),
              "bad.txt:12:", "unit '(ms)' where nccl-tests prints '(us)' for out-of-place time");
  ExpectError(WithLine(12,
                       "#        (B)    (elements)                               (us)  (GB/s)  "
                       "(GB/s)            (us)  (MB/s)  (GB/s)"),
              "bad.txt:12:", "'(MB/s)' where nccl-tests prints '(GB/s)' for in-place algbw");
  // ... and times in ms under a (us) header: 935.7 us written 0.9357.
  ExpectError(WithField(15, 5, "0.9357"), "bad.txt:15:",
              "out-of-place algbw 17.93 GB/s disagrees with size / time = 16777216 B / 0.9357 us");
  // Bandwidth in MB/s: busbw still 1.5 x algbw, but algbw is not size / time.
  ExpectError(WithField(15, 10, "17950.00"),
              "bad.txt:15:", "in-place algbw 17950.00 GB/s disagrees");
}

TEST(NcclTestsLogTest, ToleranceIsThePrintedPrecision) {
  // 16777216 B / 935.7 us = 17.930 GB/s: the printed time stands for
  // 935.65..935.75 us, i.e. 17.9292..17.9311 GB/s, and algbw 17.93 for
  // 17.925..17.935: they meet. 17.92 (17.915..17.925) and 17.94 do not.
  ExpectError(WithField(15, 6, "17.92"),
              "bad.txt:15:", "which the printed time puts at 17.9292..17.9311");
  ExpectError(WithField(15, 6, "17.94"), "bad.txt:15:", "out-of-place algbw 17.94 GB/s disagrees");
  // A time printed with one digit more is held to that digit: 936.50 us is
  // 17.9149 GB/s at most.
  EXPECT_EQ(Parse(WithField(15, 5, "935.70")).size(), 1u);
  ExpectError(WithField(15, 5, "936.50"), "bad.txt:15:", "out-of-place algbw 17.93 GB/s disagrees");
  // busbw = algbw x 2(n-1)/n: algbw 17.9292..17.9311 gives 26.8938..26.8966;
  // printed 26.90, 26.89 (26.885..26.895) still meets it, 26.88 does not.
  EXPECT_EQ(Parse(WithField(15, 7, "26.89")).size(), 1u);
  ExpectError(WithField(15, 7, "26.88"),
              "bad.txt:15:", "out-of-place busbw 26.88 GB/s disagrees with algbw 17.93 GB/s x 1.5");
}

TEST(NcclTestsLogTest, RejectsNonNumericAndNegativeFields) {
  ExpectError(WithField(14, 7, "abc"),
              "bad.txt:14:", "out-of-place busbw 'abc' is not a finite number");
  ExpectError(WithField(14, 9, "nan"), "bad.txt:14:", "in-place time 'nan' is not a finite number");
  ExpectError(WithField(14, 10, "inf"), "bad.txt:14:", "in-place algbw 'inf'");
  ExpectError(WithField(14, 5, "-35.19"), "bad.txt:14:", "out-of-place time -35.19 is negative");
  ExpectError(WithField(14, 1, "32768x"), "bad.txt:14:", "count '32768x' is not an element count");
  ExpectError(WithField(14, 8, "1.5"), "bad.txt:14:", "#wrong '1.5' is not a whole count");
  ExpectError(WithField(14, 2, "float33"), "bad.txt:14:", "unknown data type 'float33'");
  ExpectError(WithField(14, 3, "plus"), "bad.txt:14:", "unknown reduction 'plus'");
  ExpectError(WithField(14, 4, "-2"), "bad.txt:14:", "root '-2' is not a rank or -1");
}

TEST(NcclTestsLogTest, RejectsSizeThatIsNotCountTimesType) {
  ExpectError(WithField(14, 1, "32000"), "bad.txt:14:",
              "size 131072 B is not count 32000 x 4 B (float) as all_reduce_perf prints it");
}

TEST(NcclTestsLogTest, RejectsUnknownTestWithoutOverride) {
  const std::string bare = WithoutLines(1, 1);
  ExpectError(bare, "bad.txt:1:", "cannot tell which nccl-tests binary printed this table");
  ExpectError(bare, "bad.txt:1:", "pass the test name");
  ASSERT_EQ(Parse(bare, "x", NcclTest::kAllReduce).size(), 1u);
  // The right factor for 4 ranks is what lets all_reduce through:
  // broadcast's 1 is refused by busbw, all_gather's ratio by the size.
  ExpectError(bare, "bad.txt:12:",
              "busbw 0.10 GB/s disagrees with algbw 0.06 GB/s x 1 (broadcast_perf, 4 ranks)",
              NcclTest::kBroadcast);
  ExpectError(bare, "bad.txt:12:", "size 1024 B is not count 256 x 4 B (float) x 4 ranks",
              NcclTest::kAllGather);
  ExpectError(WithLine(1, "$ ./build/hypercube_perf -g 4"),
              "bad.txt:1:", "'hypercube_perf' is not an nccl-tests binary this parser reads");
  ExpectError(kGood, "bad.txt:1:", "the log runs all_reduce_perf but the test given is reduce",
              NcclTest::kReduce);
}

TEST(NcclTestsLogTest, RejectsRowsOutOfOrder) {
  std::vector<std::string> lines = Lines(kGood);
  std::swap(lines[13], lines[14]);
  // Avg unchanged: the order is what is wrong.
  ExpectError(Join(lines),
              "bad.txt:15:", "size 131072 B after 16777216 B (line 14): sizes must not decrease");
  // -N 2 repeats the sweep: back to the first size is a new cycle, not disorder.
  lines = Lines(kGood);
  lines[0] += " -N 2";
  lines.insert(lines.begin() + 15, {lines[12], lines[13], lines[14]});
  lines[19] = "# Avg bus bandwidth    : 10.8783";
  const std::vector<NcclTestsTable> cycles = Parse(Join(lines));
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0].rows.size(), 6u);
  lines[0] = Lines(kGood)[0];
  ExpectError(Join(lines), "bad.txt:16:", "size 1024 B after 16777216 B");
  // A new data type (-d all) starts a new sweep.
  lines = Lines(kGood);
  lines[14] =
      "        4096           512    double     sum      -1    15.88    0.26    0.39      0    "
      "15.70    0.26    0.39      0";
  lines[16] = "# Avg bus bandwidth    : 2.03667";
  EXPECT_EQ(Parse(Join(lines)).size(), 1u);
}

TEST(NcclTestsLogTest, RejectsRankLinesThatDisagree) {
  ExpectError(WithoutLines(8, 8), "bad.txt:7:", "Pid 1234 has 3 ranks, want nThread x nGpus = 4");
  // Without Pids (before 2019) only the count can tell.
  std::vector<std::string> old = Lines(kGood);
  for (int k = 4; k < 8; ++k) old[k].replace(old[k].find(" Group  0 Pid   1234"), 20, "");
  EXPECT_EQ(Parse(Join(old)).size(), 1u);
  old.erase(old.begin() + 7);
  ExpectError(Join(old),
              "bad.txt:7:", "3 Rank lines, want nThread x nGpus x processes = 1 x 4 x 1");
  ExpectError(
      WithLine(
          7,
          "#  Rank  5 Group  0 Pid   1234 on      box-a device  2 [0x41] NVIDIA GeForce RTX 5090"),
      "bad.txt:7:", "Rank 5 where rank 2 belongs");
  ExpectError(
      WithLine(
          8,
          "#  Rank  3 Group  0 Pid   9999 on      box-b device  0 [0x01] NVIDIA GeForce RTX 5090"),
      "bad.txt:7:", "Pid 1234 has 3 ranks, want nThread x nGpus = 4");
  ExpectError(WithLine(1, "$ mpirun -np 2 ./build/all_reduce_perf -b 1K -e 128M -f 128 -g 4"),
              "bad.txt:8:", "4 Rank lines, want nThread x nGpus x processes = 1 x 4 x 2");
  ExpectError(WithLine(6, "#  Rank  1 on box-a"),
              "bad.txt:6:", "a Rank line not as nccl-tests prints it");
}

TEST(NcclTestsLogTest, RejectsCommandThatDisagreesWithHeader) {
  ExpectError(WithLine(1, "$ ./build/all_reduce_perf -b 1K -e 128M -f 128 -g 2"), "bad.txt:1:",
              "the command gives -g 2 but the `# nThread` line (line 2) says nGpus 4");
  ExpectError(WithLine(1, "$ ./build/all_reduce_perf --minbytes=2K -e 128M -f 128 -g 4"),
              "bad.txt:1:", "-b 2K but the `# nThread` line (line 2) says minBytes 1024");
  ExpectError(WithLine(2,
                       "# nThread 1 nGpus 4 minBytes 1024 maxBytes 1048576 step: 128(factor) "
                       "warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0"),
              "bad.txt:1:", "-e 128M but");
  ExpectError(WithLine(2, "# nThread 1 nGpus four"),
              "bad.txt:2:", "a `# nThread` line not as nccl-tests prints it");
}

TEST(NcclTestsLogTest, RejectsRowsAfterTheEnd) {
  std::vector<std::string> lines = Lines(kGood);
  lines.push_back(lines[14]);
  ExpectError(Join(lines),
              "bad.txt:19:", "a row of the table at line 11 after its end at line 17 (its footer)");
  lines = Lines(kGood);
  lines.insert(lines.begin() + 14, "some text that is not part of it");
  ExpectError(Join(lines), "bad.txt:16:", "after its end at line 15 (text that is not part of it)");
}

TEST(NcclTestsLogTest, RejectsFooterThatDisagrees) {
  ExpectError(WithLine(17, "# Avg bus bandwidth    : 10.9"), "bad.txt:17:",
              "Avg bus bandwidth 10.9 GB/s is not the mean 10.8783 GB/s of the 6 busbw figures");
  // %g keeps six digits: 10.8783 stands for 10.87825..10.87835 plus the
  // rounding of the busbw figures (0.005 on average).
  EXPECT_EQ(Parse(WithLine(17, "# Avg bus bandwidth    : 10.8833")).size(), 1u);
  ExpectError(WithLine(17, "# Avg bus bandwidth    : 10.8834"), "bad.txt:17:", "is not the mean");
  ExpectError(WithLine(17, "# Avg bus bandwidth    : fast"),
              "bad.txt:17:", "a footer line not as nccl-tests prints it");
  ExpectError(WithoutLines(13, 13), "bad.txt:16:", "is not the mean");  // a row dropped
}

TEST(NcclTestsLogTest, RejectsUnknownColumns) {
  ExpectError(WithLine(11,
                       "#       size         count      type   redop    root     time   algbw   "
                       "busbw #wrong     "
                       "time   algbw   busbw #wrong  extra"),
              "bad.txt:11:", "unknown column 'extra' after the in-place columns");
  ExpectError(WithLine(11,
                       "#       size         count      type   redop    root     time   algbw   "
                       "busbw #wrong     "
                       "time   busbw   algbw #wrong"),
              "bad.txt:11:", "column 11 is 'busbw', want algbw (in-place columns)");
  ExpectError(WithLine(11,
                       "#       bytes        N      type   op     time   algbw   busbw  res     "
                       "time   algbw   busbw  res"),
              "bad.txt:2:", "no column names");  // the 2017 layout is no table
}

// ---------------------------------------------------------------------------
// epsim's own tables: `epsim-hw bench OP` (measured) and `epsim bench OP`
// (simulated), out-of-place columns only.

std::string ProjectFile(const std::string& path) {
  Result<std::string> text = ReadFileToString(std::string(EPSIM_SOURCE_DIR) + "/" + path);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : "";
}

const char* kHostMeasured = "experiments/hw/vm-2core-2ranks/alltoall.measured.txt";
const char* kHostSimulated = "experiments/hw/vm-2core-2ranks/alltoall.simulated.txt";

TEST(NcclTestsLogTest, ReadsEpsimHwBenchMeasuredTable) {
  // epsim-hw bench alltoall, host backend, 2 MPI ranks on the 2-core VM.
  const std::vector<NcclTestsTable> tables = Parse(ProjectFile(kHostMeasured));
  ASSERT_EQ(tables.size(), 1u);
  const NcclTestsTable& t = tables[0];
  EXPECT_EQ(t.test, NcclTest::kAllToAll);
  EXPECT_EQ(t.epsim_source, "measured");
  EXPECT_EQ(t.epsim_version, "0.1.0");
  EXPECT_EQ(t.header_line, 1);  // the `# epsim` line
  EXPECT_EQ(t.columns_line, 16);
  EXPECT_EQ(t.num_ranks, 2);
  EXPECT_FALSE(t.num_ranks_from_command);
  EXPECT_TRUE(t.command.empty());
  EXPECT_TRUE(t.ranks.empty());
  EXPECT_EQ(t.warmup_iters, 5);
  EXPECT_EQ(t.iters, 20);
  EXPECT_EQ(t.max_bytes, 0u);  // epsim-hw prints no sizes input
  EXPECT_FALSE(t.in_place);
  EXPECT_EQ(t.columns.size(), 9u);
  ASSERT_EQ(t.rows.size(), 8u);
  for (size_t k = 0; k < t.rows.size(); ++k) {
    const NcclTestsRow& r = t.rows[k];
    EXPECT_EQ(r.size_bytes, uint64_t(1024) << (2 * k));
    EXPECT_EQ(r.count, r.size_bytes / 4);  // epsim's alltoall: a rank's whole buffer
    EXPECT_EQ(r.line, int(18 + k));
    EXPECT_EQ(r.redop, "none");
    EXPECT_EQ(r.wrong[0], 0);  // -c checked it
    // No in-place half: absent, not zero.
    EXPECT_TRUE(std::isnan(r.time_us[1]));
    EXPECT_TRUE(std::isnan(r.algbw_gbps[1]));
    EXPECT_TRUE(std::isnan(r.busbw_gbps[1]));
    EXPECT_EQ(r.wrong[1], -1);
    EXPECT_FALSE(r.iter[1].has_value());
  }
  EXPECT_DOUBLE_EQ(t.rows[0].time_us[0], 2.82);
  EXPECT_DOUBLE_EQ(t.rows[3].algbw_gbps[0], 10.30);
  EXPECT_DOUBLE_EQ(t.rows[6].busbw_gbps[0], 10.74);
  EXPECT_DOUBLE_EQ(t.rows[7].time_us[0], 1468.78);
  EXPECT_DOUBLE_EQ(*t.avg_busbw_gbps, 5.1068);
  EXPECT_EQ(t.avg_busbw_line, 27);
  EXPECT_EQ(t.out_of_bounds, 0);
  // calibrate's --test alltoall agrees; another test is refused.
  EXPECT_EQ(Parse(ProjectFile(kHostMeasured), "x", NcclTest::kAllToAll).size(), 1u);
  ExpectError(ProjectFile(kHostMeasured), "bad.txt:1:",
              "the log runs epsim bench alltoall (alltoall) but the test given is sendrecv",
              NcclTest::kSendRecv);
}

TEST(NcclTestsLogTest, ReadsEpsimBenchSimulatedTable) {
  const std::vector<NcclTestsTable> tables = Parse(ProjectFile(kHostSimulated));
  ASSERT_EQ(tables.size(), 1u);
  const NcclTestsTable& t = tables[0];
  EXPECT_EQ(t.test, NcclTest::kAllToAll);
  EXPECT_EQ(t.epsim_source, "simulated");
  EXPECT_EQ(t.num_ranks, 2);  // "2 (rank r = process r of the topology)"
  EXPECT_EQ(t.columns_line, 23);
  EXPECT_EQ(t.min_bytes, 1024u);  // sizes: -b 1K -e 16M -f 4 -i 1M
  EXPECT_EQ(t.max_bytes, 16777216u);
  EXPECT_EQ(t.step, 4u);
  EXPECT_TRUE(t.step_is_factor);
  EXPECT_EQ(t.iters, 0);
  EXPECT_FALSE(t.in_place);
  ASSERT_EQ(t.rows.size(), 8u);
  EXPECT_EQ(t.rows[0].size_bytes, 1024u);
  EXPECT_EQ(t.rows[0].line, 25);
  EXPECT_EQ(t.rows[7].size_bytes, 16777216u);
  EXPECT_DOUBLE_EQ(t.rows[0].time_us[0], 0.96);
  EXPECT_DOUBLE_EQ(t.rows[4].time_us[0], 40.89);
  EXPECT_DOUBLE_EQ(t.rows[7].time_us[0], 2566.60);
  EXPECT_EQ(t.rows[0].wrong[0], -1);  // N/A: a simulation moves no data
  EXPECT_DOUBLE_EQ(*t.avg_busbw_gbps, 2.5582);
  // Both in one log (measured, then simulated) stay two tables, and an
  // nccl-tests table after them is read as nccl-tests'.
  const std::vector<NcclTestsTable> both =
      Parse(ProjectFile(kHostMeasured) + ProjectFile(kHostSimulated) + kGood);
  ASSERT_EQ(both.size(), 3u);
  EXPECT_EQ(both[0].epsim_source, "measured");
  EXPECT_EQ(both[1].epsim_source, "simulated");
  EXPECT_EQ(both[1].header_line, 29);
  EXPECT_TRUE(both[2].epsim_source.empty());
  EXPECT_TRUE(both[2].in_place);
  EXPECT_EQ(both[2].num_ranks, 4);
}

// `epsim bench allreduce --topology a6000-x4-pcie-gen4 -b 1K -e 1M -f 32`,
// as printed. Checked by hand: 1024 B / 18.79 us = 0.0545 GB/s, x 2(4-1)/4
// = 0.0817; 32768 / 24.74 = 1.3245, 1.987; 1048576 / 175.10 = 5.9884,
// 8.9826; the mean busbw of the printed figures 3.6833 (printed 3.6835,
// from unrounded figures).
const char* kEpsimAllReduce =
    "# epsim 0.1.0 bench allreduce (simulated)\n"
    "#\n"
    "# Inputs:\n"
    "#   topology: a6000-x4-pcie-gen4\n"
    "#   topology file: topologies/a6000-x4-pcie-gen4.textproto\n"
    "#   ranks: 4 (rank r = GPU r of the topology)\n"
    "#   sizes: -b 1K -e 1M -f 32 -i 1M\n"
    "#   type: float (4 B)\n"
    "#   algorithm: ring in rank order (r -> r+1 mod n), 6 steps of size/4 per rank, each after "
    "the rank's receive of the step before, the protocol's base latency once (steps pipelined); "
    "reduction not charged; tree not modelled\n"
    "# Settings:\n"
    "#   simgrid_version: 3.32.0\n"
    "#   host/model: ptask_L07\n"
    "#   routing: fewest links per GPU pair (topo show), explicit routes\n"
    "#   transport: --p2p auto: 0 P2P, 12 SHM, 0 NET ordered GPU pairs\n"
    "#   protocols: LL up to 16384 B (base 6.6 us, efficiency 0.5, extra hop "
    "nvlink/pcie/net/memory 0/0/0/0 us); Simple above (base 8.4 us, efficiency 1, extra hop "
    "nvlink/pcie/net/memory 2.8/4.7/11.3/0 us)\n"
    "#   sharing: max-min fair shares; SimGrid links have zero latency and each message waits its "
    "latency (NCCL protocol + route) before it starts\n"
    "#   compute: roofline per kernel; one stream per rank\n"
    "#   granularity: pair\n"
    "#   max_inflight: 8 per rank, pairwise order\n"
    "#\n"
    "# algbw = size / time, busbw = algbw x 2(n-1)/n; size = the buffer each rank reduces (GB = "
    "1e9 B)\n"
    "# Out-of-place columns only: a simulated in-place run takes the same time\n"
    "#\n"
    "#                                                  out-of-place\n"
    "#       size         count    type   redop    root        time     algbw     busbw  #wrong\n"
    "#        (B)    (elements)                                (us)    (GB/s)    (GB/s)        \n"
    "        1024           256   float     sum      -1       18.79      0.05      0.08     N/A\n"
    "       32768          8192   float     sum      -1       24.74      1.32      1.99     N/A\n"
    "     1048576        262144   float     sum      -1      175.10      5.99      8.98     N/A\n"
    "# Out of bounds values : 0 OK\n"
    "# Avg bus bandwidth    : 3.6835\n"
    "#\n";

// kEpsimAllReduce with line `line` (1-based) replaced by `text`.
std::string EpsimWithLine(int line, const std::string& text) {
  std::vector<std::string> lines = Lines(kEpsimAllReduce);
  lines[line - 1] = text;
  return Join(lines);
}

// kEpsimAllReduce as epsim bench prints it now: nccl-tests' `# nThread`
// line and device block after the Settings (sim/report/bench_output.h).
std::string EpsimWithLaunch() {
  std::vector<std::string> lines = Lines(kEpsimAllReduce);
  const std::vector<std::string> launch = {
      "# nThread 1 nGpus 4 minBytes 1024 maxBytes 1048576 step: 32(factor) warmup iters: 1 "
      "iters: 20 agg iters: 1 validation: 0 graph: 0 unalign: 0",
      "#",
      "# Using devices",
      "#  Rank  0 Group  0 Pid      0 on      host0 device  0 [gpu0] NVIDIA RTX A6000",
      "#  Rank  1 Group  0 Pid      0 on      host0 device  1 [gpu1] NVIDIA RTX A6000",
      "#  Rank  2 Group  0 Pid      0 on      host0 device  2 [gpu2] NVIDIA RTX A6000",
      "#  Rank  3 Group  0 Pid      0 on      host0 device  3 [gpu3] NVIDIA RTX A6000",
      "#"};
  lines.insert(lines.begin() + 21, launch.begin(), launch.end());  // after line 21, "#"
  return Join(lines);
}

TEST(NcclTestsLogTest, ReadsEpsimBenchWithNcclTestsLaunchLines) {
  const std::vector<NcclTestsTable> tables = Parse(EpsimWithLaunch());
  ASSERT_EQ(tables.size(), 1u);
  const NcclTestsTable& t = tables[0];
  EXPECT_EQ(t.test, NcclTest::kAllReduce);
  EXPECT_EQ(t.epsim_source, "simulated");
  EXPECT_EQ(t.header_line, 1);  // the `# epsim` line, not the `# nThread` line
  EXPECT_EQ(t.num_ranks, 4);
  EXPECT_EQ(t.num_threads, 1);
  EXPECT_EQ(t.gpus_per_thread, 4);
  EXPECT_EQ(t.iters, 20);  // from the `# nThread` line: epsim bench prints no iterations input
  EXPECT_EQ(t.max_bytes, 1048576u);
  ASSERT_EQ(t.ranks.size(), 4u);
  EXPECT_EQ(t.ranks[3].host, "host0");
  EXPECT_EQ(t.ranks[3].device, 3);
  EXPECT_EQ(t.ranks[3].bus_id, "gpu3");
  EXPECT_EQ(t.ranks[3].device_name, "NVIDIA RTX A6000");
  EXPECT_EQ(t.columns_line, 33);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_DOUBLE_EQ(t.rows[2].time_us[0], 175.10);
  EXPECT_DOUBLE_EQ(*t.avg_busbw_gbps, 3.6835);
}

TEST(NcclTestsLogTest, ReadsEpsimBenchAllReduce) {
  const std::vector<NcclTestsTable> tables = Parse(kEpsimAllReduce);
  ASSERT_EQ(tables.size(), 1u);
  const NcclTestsTable& t = tables[0];
  EXPECT_EQ(t.test, NcclTest::kAllReduce);
  EXPECT_EQ(t.epsim_source, "simulated");
  EXPECT_EQ(t.num_ranks, 4);
  EXPECT_EQ(t.header_line, 1);
  EXPECT_EQ(t.columns_line, 25);
  EXPECT_EQ(t.max_bytes, 1048576u);
  EXPECT_EQ(t.step, 32u);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[1].size_bytes, 32768u);
  EXPECT_EQ(t.rows[1].count, 8192u);
  EXPECT_EQ(t.rows[1].redop, "sum");
  EXPECT_EQ(t.rows[1].line, 28);
  EXPECT_DOUBLE_EQ(t.rows[1].time_us[0], 24.74);
  EXPECT_DOUBLE_EQ(t.rows[2].busbw_gbps[0], 8.98);
  EXPECT_TRUE(std::isnan(t.rows[2].time_us[1]));
  EXPECT_DOUBLE_EQ(*t.avg_busbw_gbps, 3.6835);
  // The ranks fix the factor: 2 ranks give busbw = algbw x 1.
  ExpectError(EpsimWithLine(6, "#   ranks: 2 (rank r = GPU r of the topology)"), "bad.txt:27:",
              "busbw 0.08 GB/s disagrees with algbw 0.05 GB/s x 1 (epsim bench all_reduce, 2 "
              "ranks)");
  // The figures are all_reduce's: reducescatter's count is per rank, x 4
  // (and allgather's redop is none).
  ExpectError(EpsimWithLine(1, "# epsim 0.1.0 bench reducescatter (simulated)"), "bad.txt:27:",
              "size 1024 B is not count 256 x 4 B (float) x 4 ranks as epsim bench reduce_scatter");
  ExpectError(EpsimWithLine(1, "# epsim 0.1.0 bench allgather (simulated)"), "bad.txt:27:",
              "redop 'sum' where epsim bench all_gather prints 'none'");
  ExpectError(kEpsimAllReduce, "bad.txt:1:",
              "runs epsim bench allreduce (all_reduce) but the test given is all_gather",
              NcclTest::kAllGather);
  // The average, printed %.4f, holds to its four decimals plus the rows'.
  ExpectError(EpsimWithLine(31, "# Avg bus bandwidth    : 3.6900"), "bad.txt:31:",
              "Avg bus bandwidth 3.6900 GB/s is not the mean 3.68333 GB/s of the 3 busbw");
}

TEST(NcclTestsLogTest, ReadsEveryEpsimRingCollectiveAndSendRecv) {
  // `epsim bench OP --topology a6000-x4-pcie-gen4 -b 8 -e 1M -f 4`, the
  // rows of interest: allgather and reducescatter print the whole buffer
  // as size and a rank's count (x 4 ranks); sizes that round to nothing
  // print 0; sendrecv's busbw is its algbw.
  const std::string columns =
      "#                                                  out-of-place\n"
      "#       size         count    type   redop    root        time     algbw     busbw  "
      "#wrong\n"
      "#        (B)    (elements)                                (us)    (GB/s)    (GB/s)\n";
  auto table = [&](const std::string& op, const std::string& rows) {
    return "# epsim 0.1.0 bench " + op +
           " (simulated)\n#\n# Inputs:\n#   ranks: 4 (rank r = GPU r of the topology)\n"
           "#   sizes: -b 8 -e 1M -f 4 -i 1M\n# Settings:\n#   granularity: pair\n#\n" +
           columns + rows;
  };
  const std::string gather_rows =
      "           0             0   float    none      -1        0.00      0.00      0.00     N/A\n"
      "         128             8   float    none      -1       25.81      0.00      0.00     N/A\n"
      "      524288         32768   float    none      -1       83.98      6.24      4.68     N/A\n";
  std::string scatter_rows = gather_rows;
  for (size_t at; (at = scatter_rows.find("none")) != std::string::npos;)
    scatter_rows.replace(at, 4, " sum");
  const std::string sendrecv_rows =
      "        8192          2048   float    none      -1        9.62      0.85      0.85     N/A\n"
      "      524288        131072   float    none      -1       52.57      9.97      9.97     N/A\n";
  const std::vector<NcclTestsTable> tables =
      Parse(table("allgather", gather_rows) + table("reducescatter", scatter_rows) +
            table("sendrecv", sendrecv_rows));
  ASSERT_EQ(tables.size(), 3u);
  EXPECT_EQ(tables[0].test, NcclTest::kAllGather);
  EXPECT_EQ(tables[1].test, NcclTest::kReduceScatter);
  EXPECT_EQ(tables[2].test, NcclTest::kSendRecv);
  EXPECT_EQ(tables[0].rows[2].count, 32768u);
  EXPECT_EQ(tables[0].rows[0].size_bytes, 0u);
  EXPECT_DOUBLE_EQ(tables[2].rows[1].time_us[0], 52.57);
  // epsim prints redop sum for reducescatter and allreduce only.
  ExpectError(table("allgather", scatter_rows), "bad.txt:12:",
              "redop 'sum' where epsim bench all_gather prints 'none'");
  // Sizes above -e, or decreasing.
  ExpectError(table("sendrecv",
                    sendrecv_rows +
                        "     2097152        524288   float    none      -1      175.10     11.98 "
                        "    11.98     N/A\n"),
              "bad.txt:14:", "size 2097152 B is above maxBytes 1048576");
  ExpectError(table("sendrecv", Lines(sendrecv_rows)[1] + "\n" + Lines(sendrecv_rows)[0] + "\n"),
              "bad.txt:13:", "size 8192 B after 524288 B (line 12)");
  // alltoall_perf's count (one peer's share) is not what epsim prints.
  ExpectError(table("alltoall",
                    "        8192           512   float    none      -1        9.37      0.87  "
                    "    0.66     N/A\n"),
              "bad.txt:12:", "size 8192 B is not count 512 x 4 B (float) as epsim bench alltoall");
}

TEST(NcclTestsLogTest, RejectsBrokenEpsimTables) {
  // No ranks line (nothing else tells the rank count).
  std::vector<std::string> lines = Lines(kEpsimAllReduce);
  lines.erase(lines.begin() + 5);
  ExpectError(Join(lines), "bad.txt:1:", "epsim bench header with no `#   ranks: N` input line");
  ExpectError(EpsimWithLine(6, "#   ranks: four"), "bad.txt:6:", "ranks 'four' is not a rank count");
  lines = Lines(kEpsimAllReduce);
  lines.insert(lines.begin() + 6, "#   ranks: 4");
  ExpectError(Join(lines), "bad.txt:7:", "a second ranks line (the first: line 6)");
  // Ops this parser does not read, and headers epsim does not print.
  ExpectError(EpsimWithLine(1, "# epsim 0.1.0 bench broadcast (simulated)"), "bad.txt:1:",
              "'broadcast' is not an epsim bench op this parser reads");
  ExpectError(EpsimWithLine(1, "# epsim 0.1.0 epsim-hw bench alltoallv (measured)"), "bad.txt:1:",
              "alltoallv is not read (its bandwidth depends on a traffic matrix");
  ExpectError(EpsimWithLine(1, "# epsim 0.1.0 epsim-hw bench allreduce (simulated)"),
              "bad.txt:1:", "epsim-hw bench measures, epsim bench simulates");
  ExpectError(EpsimWithLine(1, "# epsim 0.1.0 run classical (simulated)"), "bad.txt:1:",
              "not as `epsim bench` or `epsim-hw bench` print it");
  ExpectError(EpsimWithLine(7, "#   sizes: 1K to 1M"), "bad.txt:7:",
              "sizes '1K to 1M' not as epsim bench prints them");
  // A row with the wrong column count.
  ExpectError(EpsimWithLine(28,
                            "       32768          8192   float     sum      -1       24.74      "
                            "1.32      1.99"),
              "bad.txt:28:", "8 fields, the column names (line 25) give 9");
  ExpectError(EpsimWithLine(28,
                            "       32768          8192   float     sum      -1       24.74      "
                            "1.32      1.99     N/A    24.74      1.32      1.99     N/A"),
              "bad.txt:28:", "13 fields, the column names (line 25) give 9");
  // Mixed units: the units line, or a time in ms under (us).
  ExpectError(EpsimWithLine(26,
                            "#        (B)    (elements)                                (ms)    "
                            "(GB/s)    (GB/s)"),
              "bad.txt:26:", "unit '(ms)' where epsim bench prints '(us)' for out-of-place time");
  ExpectError(EpsimWithLine(26,
                            "#        (B)    (elements)                                (us)    "
                            "(GB/s)    (MB/s)"),
              "bad.txt:26:", "unit '(MB/s)' where epsim bench prints '(GB/s)'");
  ExpectError(EpsimWithLine(29,
                            "     1048576        262144   float     sum      -1        0.18      "
                            "5.99      8.98     N/A"),
              "bad.txt:29:",
              "out-of-place algbw 5.99 GB/s disagrees with size / time = 1048576 B / 0.18 us");
  // Only epsim's nine columns below its header ...
  ExpectError(
      EpsimWithLine(25,
                    "#       size         count    type   redop    root        time     algbw     "
                    "busbw  #wrong     time     algbw     busbw  #wrong"),
      "bad.txt:25:", "below an epsim bench header, which prints 'size count type redop root");
  // ... and a table of one half nowhere else: nccl-tests prints both.
  std::vector<std::string> bare = Lines(kEpsimAllReduce);
  bare.erase(bare.begin(), bare.begin() + 24);
  ExpectError(Join(bare), "bad.txt:1:", "no in-place columns", NcclTest::kAllReduce);
  ExpectError("$ ./build/all_reduce_perf -b 1K -e 1M -f 32 -g 4\n" + Join(bare), "bad.txt:2:",
              "no in-place columns");
}

// ---------------------------------------------------------------------------
// Other layouts and log shapes.

TEST(NcclTestsLogTest, ReadsSeveralTablesInterleavedWithNcclLines) {
  std::vector<std::string> lines = Lines(kGood);
  lines.insert(lines.begin() + 13,
               "box-a:1234:1240 [0] NCCL INFO Channel 00 : 0[0] -> 1[1] via SHM/direct/direct");
  lines.insert(lines.begin() + 13, "");
  std::string text = "intro text\n" + Join(lines) + "```\n$ ls\n" + kGood;
  const std::vector<NcclTestsTable> tables = Parse(text);
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].rows.size(), 3u);
  EXPECT_EQ(tables[0].rows[1].line, 17);
  EXPECT_EQ(tables[1].command_line, 24);
  EXPECT_EQ(tables[1].rows[2].line, 38);
}

TEST(NcclTestsLogTest, ReadsOlderPerTestLayoutWithErrorColumn) {
  // nccl-tests 2019-2022: all_gather printed no redop or root, and the
  // largest deviation ("%5.0le") instead of #wrong. 2 ranks: size 1 MB is
  // 131072 floats per rank x 2; S/t = 10.49 GB/s, busbw half of it.
  const std::string header =
      "./build/all_gather_perf -b 1M -e 1M -g 2\n"
      "#       size         count    type     time   algbw   busbw  error     time   algbw   busbw "
      " error\n"
      "#        (B)    (elements)             (us)  (GB/s)  (GB/s)             (us)  (GB/s)  "
      "(GB/s)\n";
  const std::vector<NcclTestsTable> now =
      Parse(header +
            "     1048576        131072   float   100.00   10.49    5.24  0e+00   100.00   10.49   "
            " 5.24  2e-07\n");
  ASSERT_EQ(now.size(), 1u);
  EXPECT_FALSE(now[0].legacy_algbw);
  EXPECT_EQ(now[0].rows[0].redop, "");
  EXPECT_EQ(now[0].rows[0].wrong[0], -1);
  EXPECT_DOUBLE_EQ(now[0].rows[0].max_error[1], 2e-7);
  // Before June 2020: algbw = size x (n-1)/n / time, busbw = algbw.
  const std::vector<NcclTestsTable> old =
      Parse(header +
            "     1048576        131072   float   100.00    5.24    5.24  0e+00   100.00    5.24   "
            " 5.24  0e+00\n");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_TRUE(old[0].legacy_algbw);
  // A table must keep to one convention.
  ExpectError(header +
                  "     1048576        131072   float   100.00   10.49    5.24  0e+00   100.00   "
                  "10.49    5.24  0e+00\n"
                  "     2097152        262144   float   200.00   5.24    5.24  0e+00   200.00    "
                  "5.24    5.24  0e+00\n",
              "bad.txt:5:", "algbw 5.24 GB/s disagrees with size / time");
  // broadcast printed its root and no redop.
  const std::vector<NcclTestsTable> bcast = Parse(
      "./build/broadcast_perf -g 2\n"
      "#       size         count    type   root     time   algbw   busbw  error     time   algbw  "
      " busbw  error\n"
      "#        (B)    (elements)                    (us)  (GB/s)  (GB/s)             (us)  (GB/s) "
      " (GB/s)\n"
      "     1048576        262144   float      1   100.00   10.49   10.49  0e+00   100.00   10.49  "
      " 10.49  0e+00\n");
  ASSERT_EQ(bcast.size(), 1u);
  EXPECT_EQ(bcast[0].rows[0].root, 1);
}

TEST(NcclTestsLogTest, ReadsNewestLayoutWithPerIterationStatsAndTimestamps) {
  // nccl-tests 2.19 with -I 1 -S 1: version and program lines, "unalign"
  // in the header, four statistics per half and a timestamp; no command.
  // alltoall over 4 ranks: size = count x 4 B x 4, busbw = algbw x 3/4.
  const std::string text =
      "# nccl-tests version 2.19.6 nccl-headers=22807 nccl-library=22807\n"
      "# Collective test starting: alltoall_perf\n"
      "# nThread 1 nGpus 4 minBytes 1048576 maxBytes 1048576 step: 2(factor) warmup iters: 5 "
      "iters: 20 "
      "agg iters: 1 validation: 1 graph: 0 unalign: 0\n"
      "#\n"
      "# Using devices\n"
      "#  Rank  0 Group  0 Pid   77 on      box-a device  0 [0000:01:00] NVIDIA H100\n"
      "#  Rank  1 Group  0 Pid   77 on      box-a device  1 [0000:02:00] NVIDIA H100\n"
      "#  Rank  2 Group  0 Pid   77 on      box-a device  2 [0000:03:00] NVIDIA H100\n"
      "#  Rank  3 Group  0 Pid   77 on      box-a device  3 [0000:04:00] NVIDIA H100\n"
      "#\n"
      "#       size         count      type   redop    root     time   algbw   busbw  #wrong    "
      "i_min    i_max    "
      "i_p99    i_cv%     time   algbw   busbw  #wrong    i_min    i_max    i_p99    i_cv%         "
      "  timestamp\n"
      "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)              "
      "(us)     (us)     "
      "(us)      (%)     (us)  (GB/s)  (GB/s)              (us)     (us)     (us)      (%) "
      "%Y-%m-%d %H:%M:%S\n"
      "     1048576         65536     float    none      -1    50.00   20.97   15.73       0    "
      "48.10    55.20    "
      "55.00     3.20    50.00   20.97   15.73     N/A    48.00    56.00    55.90     3.10 "
      "2025-11-03 10:20:30\n"
      "# Out of bounds values : 0 OK\n"
      "# Avg bus bandwidth    : 15.73 \n"
      "#\n"
      "# Collective test concluded: alltoall_perf\n";
  const std::vector<NcclTestsTable> tables = Parse(text);
  ASSERT_EQ(tables.size(), 1u);
  const NcclTestsTable& t = tables[0];
  EXPECT_EQ(t.test, NcclTest::kAllToAll);
  EXPECT_EQ(t.command_line, 0);
  EXPECT_EQ(t.nccl_tests_version, "2.19.6");
  EXPECT_EQ(t.columns.size(), 22u);
  ASSERT_EQ(t.rows.size(), 1u);
  ASSERT_TRUE(t.rows[0].iter[1].has_value());
  EXPECT_DOUBLE_EQ(t.rows[0].iter[0]->max_us, 55.20);
  EXPECT_DOUBLE_EQ(t.rows[0].iter[1]->cv_pct, 3.10);
  EXPECT_EQ(t.rows[0].timestamp, "2025-11-03 10:20:30");
  EXPECT_EQ(t.rows[0].wrong[1], -1);
  // cputime (-C 1): the time is host time, algbw is not size / time.
  std::string cpu = text;
  for (size_t at; (at = cpu.find("  time ")) != std::string::npos;) cpu.replace(at, 7, " cputime ");
  for (size_t at; (at = cpu.find("    50.00 ")) != std::string::npos;)
    cpu.replace(at, 10, "    70.00 ");
  const std::vector<NcclTestsTable> cpu_tables = Parse(cpu);
  ASSERT_EQ(cpu_tables.size(), 1u);
  EXPECT_TRUE(cpu_tables[0].cpu_time);
  EXPECT_DOUBLE_EQ(cpu_tables[0].rows[0].time_us[0], 70.00);
  // all_gather's figures are alltoall's; reduce's are not.
  ExpectError(text.substr(0, text.find("alltoall_perf\n# nThread")) + "reduce_perf\n" +
                  text.substr(text.find("# nThread")),
              "bad.txt:13:", "size 1048576 B is not count 65536 x 4 B (float) as reduce_perf");
}

TEST(NcclTestsLogTest, NamesAndFactors) {
  EXPECT_EQ(NcclTestFromName("all_reduce"), NcclTest::kAllReduce);
  EXPECT_EQ(NcclTestFromName("./build/reduce_scatter_perf"), NcclTest::kReduceScatter);
  EXPECT_EQ(NcclTestFromName("alltoall_perf_mpi"), NcclTest::kAllToAll);
  EXPECT_FALSE(NcclTestFromName("alltoallv").has_value());
  EXPECT_FALSE(NcclTestFromName("all_reduce_perf.sh").has_value());
  for (NcclTest t : {NcclTest::kAllReduce, NcclTest::kAllGather, NcclTest::kReduceScatter,
                     NcclTest::kAllToAll, NcclTest::kSendRecv, NcclTest::kBroadcast,
                     NcclTest::kReduce, NcclTest::kGather, NcclTest::kScatter})
    EXPECT_EQ(NcclTestFromName(NcclTestName(t) + "_perf"), t);
  EXPECT_DOUBLE_EQ(BusBwFactor(NcclTest::kAllReduce, 8), 1.75);
  EXPECT_DOUBLE_EQ(BusBwFactor(NcclTest::kAllReduce, 1), 0);
  EXPECT_DOUBLE_EQ(BusBwFactor(NcclTest::kAllGather, 4), 0.75);
  EXPECT_DOUBLE_EQ(BusBwFactor(NcclTest::kAllToAll, 8), 0.875);
  EXPECT_DOUBLE_EQ(BusBwFactor(NcclTest::kSendRecv, 8), 1);
  EXPECT_DOUBLE_EQ(BusBwFactor(NcclTest::kBroadcast, 8), 1);
  EXPECT_EQ(SizeCountRatio(NcclTest::kReduceScatter, 4), 4);
  EXPECT_EQ(SizeCountRatio(NcclTest::kReduce, 4), 1);
  EXPECT_EQ(NcclTypeBytes("bfloat16"), 2);
  EXPECT_EQ(NcclTypeBytes("f8e4m3"), 1);
  EXPECT_EQ(NcclTypeBytes("int"), 4);  // the pre-2019 name of int32
  EXPECT_FALSE(NcclTypeBytes("fp32").has_value());
}

TEST(NcclTestsLogTest, ReadsFileAndNamesIt) {
  Result<std::vector<NcclTestsTable>> missing = ReadNcclTestsLogFile("/nonexistent/log.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  const std::string path = kMeasurements + "/a100-x8-nvswitch-sendrecv.txt";
  SKIP_WITHOUT_SHARED(SharedLog("a100-x8-nvswitch-sendrecv.txt"));
  Result<std::vector<NcclTestsTable>> tables = ReadNcclTestsLogFile(path);
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ((*tables)[0].file, path);
}

}  // namespace
}  // namespace epsim::measure
