// p2pBandwidthLatencyTest matrices (sim/measure/p2p_matrix.h): the
// published outputs in ../shared/measurements with values read off the
// files, what in them is not the program's output, and broken matrices.
#include "sim/measure/p2p_matrix.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/base/file_util.h"
#include "tests/testing/shared_logs.h"

namespace epsim::measure {
namespace {

#define SKIP_WITHOUT_SHARED(text) EPSIM_SKIP_WITHOUT_SHARED_LOG(text, "published p2pBandwidthLatencyTest logs")
using ::epsim::testing::kMeasurements;
using ::epsim::testing::SharedLog;

std::vector<P2pRun> Parse(const std::string& text, const std::string& file = "test.txt") {
  Result<std::vector<P2pRun>> runs = ParseP2pBandwidthLatencyLog(text, file);
  EXPECT_TRUE(runs.ok()) << runs.status().ToString();
  return runs.ok() ? *runs : std::vector<P2pRun>();
}

void ExpectError(const std::string& text, const std::string& where, const std::string& what) {
  Result<std::vector<P2pRun>> runs = ParseP2pBandwidthLatencyLog(text, "bad.txt");
  ASSERT_FALSE(runs.ok()) << "parsed:\n" << text;
  EXPECT_EQ(runs.status().code(), Status::Code::kBadInput);
  const std::string& message = runs.status().message();
  EXPECT_EQ(message.rfind(where, 0), 0u) << message;
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

// The first `n` lines of `text`.
std::string Head(const std::string& text, int n) {
  size_t at = 0;
  for (int k = 0; k < n && at != std::string::npos; ++k) at = text.find('\n', at) + 1;
  return text.substr(0, at);
}

// ---------------------------------------------------------------------------
// The published outputs.

TEST(P2pMatrixTest, ReadsRtx2080TiRun) {
  const std::string text = SharedLog("rtx2080ti-x2-pcie-switch-shm.txt");
  SKIP_WITHOUT_SHARED(text);
  const std::vector<P2pRun> runs = Parse(text);
  ASSERT_EQ(runs.size(), 1u);
  const P2pRun& run = runs[0];
  EXPECT_EQ(run.line, 150);  // the banner
  ASSERT_EQ(run.devices.size(), 2u);
  EXPECT_EQ(run.devices[1].name, "NVIDIA GeForce RTX 2080 Ti");
  EXPECT_EQ(run.devices[0].pci_bus_id, "b4");
  EXPECT_EQ(run.devices[1].pci_bus_id, "b5");
  ASSERT_EQ(run.access.size(), 2u);
  EXPECT_FALSE(run.access[0].can);
  EXPECT_EQ(run.access[1].line, 154);
  EXPECT_EQ(run.num_devices(), 2);
  // Connectivity, 4 bandwidth matrices, 2 latency matrices of 2 blocks.
  ASSERT_EQ(run.matrices.size(), 9u);
  const P2pMatrix& connectivity = run.matrices[0];
  EXPECT_EQ(connectivity.kind, P2pMatrixKind::kConnectivity);
  EXPECT_EQ(connectivity.title_line, 159);
  EXPECT_EQ(connectivity.At(0, 1), 0);
  EXPECT_EQ(connectivity.At(1, 1), 1);
  const P2pMatrix& staged = run.matrices[1];
  EXPECT_EQ(staged.title, "Unidirectional P2P=Disabled Bandwidth Matrix (GB/s)");
  EXPECT_EQ(staged.kind, P2pMatrixKind::kBandwidth);
  EXPECT_FALSE(staged.bidirectional);
  EXPECT_FALSE(staged.p2p_enabled);
  EXPECT_EQ(staged.units, "GB/s");
  EXPECT_EQ(staged.line, 164);
  EXPECT_DOUBLE_EQ(staged.At(0, 0), 541.84);
  EXPECT_DOUBLE_EQ(staged.At(1, 0), 5.70);
  EXPECT_EQ(run.matrices[2].method, P2pMethod::kWrites);
  EXPECT_TRUE(run.matrices[2].p2p_enabled);
  EXPECT_DOUBLE_EQ(run.matrices[2].At(0, 1), 5.72);
  EXPECT_TRUE(run.matrices[3].bidirectional);
  EXPECT_DOUBLE_EQ(run.matrices[3].At(0, 1), 6.12);
  EXPECT_DOUBLE_EQ(run.matrices[4].At(1, 1), 534.01);
  const P2pMatrix& gpu = run.matrices[5];
  const P2pMatrix& cpu = run.matrices[6];
  EXPECT_EQ(gpu.kind, P2pMatrixKind::kLatency);
  EXPECT_EQ(gpu.units, "us");
  EXPECT_EQ(gpu.timer, P2pTimer::kGpu);
  EXPECT_EQ(cpu.timer, P2pTimer::kCpu);
  EXPECT_EQ(gpu.title_line, 179);
  EXPECT_EQ(cpu.title_line, 179);
  EXPECT_EQ(cpu.line, 184);
  EXPECT_DOUBLE_EQ(gpu.At(1, 0), 13.95);
  EXPECT_DOUBLE_EQ(cpu.At(0, 1), 11.08);
  EXPECT_EQ(run.matrices[7].title, "P2P=Enabled Latency (P2P Writes) Matrix (us)");
  EXPECT_DOUBLE_EQ(run.matrices[8].At(1, 1), 3.27);
}

TEST(P2pMatrixTest, ReadsRtx5090RunWithTabsAndWideValues) {
  const std::string text = SharedLog("rtx5090-x4-pcie-shm-allreduce.txt");
  SKIP_WITHOUT_SHARED(text);
  const std::vector<P2pRun> runs = Parse(text);
  ASSERT_EQ(runs.size(), 1u);
  const P2pRun& run = runs[0];
  EXPECT_EQ(run.line, 78);
  ASSERT_EQ(run.devices.size(), 2u);
  EXPECT_EQ(run.devices[0].name, "NVIDIA Graphics Device");  // the early driver's name
  EXPECT_EQ(run.devices[1].pci_bus_id, "61");
  ASSERT_EQ(run.matrices.size(), 9u);
  EXPECT_EQ(run.matrices[0].At(1, 0), 0);               // rows of "%6d\t"
  EXPECT_DOUBLE_EQ(run.matrices[1].At(0, 0), 1516.99);  // wider than "%6.02f"
  EXPECT_DOUBLE_EQ(run.matrices[1].At(0, 1), 38.24);
  EXPECT_DOUBLE_EQ(run.matrices[3].At(0, 1), 43.03);
  EXPECT_DOUBLE_EQ(run.matrices[4].At(1, 0), 42.78);
  EXPECT_DOUBLE_EQ(run.matrices[6].At(1, 0), 5.86);
  EXPECT_DOUBLE_EQ(run.matrices[8].At(1, 1), 2.20);
  EXPECT_EQ(run.matrices[8].line, 120);
}

TEST(P2pMatrixTest, ReadsRtx4090BidirectionalPair) {
  // Only the two bidirectional matrices were posted: a run without banner
  // or devices.
  const std::string text = SharedLog("rtx4090-x3-p2p-on-off-bidir.txt");
  SKIP_WITHOUT_SHARED(text);
  const std::vector<P2pRun> runs = Parse(text);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].line, 6);
  EXPECT_TRUE(runs[0].devices.empty());
  ASSERT_EQ(runs[0].matrices.size(), 2u);
  EXPECT_EQ(runs[0].num_devices(), 3);
  EXPECT_TRUE(runs[0].matrices[0].bidirectional);
  EXPECT_FALSE(runs[0].matrices[0].p2p_enabled);
  EXPECT_DOUBLE_EQ(runs[0].matrices[0].At(2, 0), 26.15);
  EXPECT_TRUE(runs[0].matrices[1].p2p_enabled);
  EXPECT_EQ(runs[0].matrices[1].method, P2pMethod::kUnspecified);
  EXPECT_DOUBLE_EQ(runs[0].matrices[1].At(0, 1), 41.38);
  EXPECT_DOUBLE_EQ(runs[0].matrices[1].At(2, 2), 921.56);  // last line, no trailing blank
}

TEST(P2pMatrixTest, Rtx4090SixGpuCopyIsCutInsideItsFourthMatrix) {
  // Not the program's output in this file: the topology XML excerpt, the
  // "# Without --sm_copy" remark and the "[the published text ...]" note
  // (skipped as other text), and the fourth matrix, cut off inside its
  // first row: the whole file is refused there ...
  const std::string text = SharedLog("rtx4090-x6-amd-p2p-vs-staged-partial.txt");
  SKIP_WITHOUT_SHARED(text);
  ExpectError(text, "bad.txt:55:",
              "Bidirectional P2P=Disabled Bandwidth Matrix (GB/s): row 0 has "
              "5 values, the header (line 54) names 6 devices (a truncated copy?)");
  // ... and what comes before its title reads whole.
  const std::vector<P2pRun> runs = Parse(Head(text, 52));
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_EQ(runs[0].matrices.size(), 3u);
  EXPECT_EQ(runs[0].num_devices(), 6);
  EXPECT_EQ(runs[0].matrices[0].title_line, 29);
  EXPECT_DOUBLE_EQ(runs[0].matrices[0].At(0, 1), 20.10);
  EXPECT_DOUBLE_EQ(runs[0].matrices[0].At(5, 5), 921.96);
  EXPECT_DOUBLE_EQ(runs[0].matrices[1].At(5, 4), 10.22);
  EXPECT_EQ(runs[0].matrices[2].method, P2pMethod::kReads);  // run with --p2p_read
  EXPECT_DOUBLE_EQ(runs[0].matrices[2].At(3, 2), 10.45);
}

TEST(P2pMatrixTest, LogsWithoutTheProgramHaveNoMatrix) {
  for (const char* file : {"a100-x8-nvswitch-sendrecv.txt", "a100pcie-2node-hdr-ib-allreduce.txt",
                           "l40s-2node-roce-vs-tcp-allreduce.txt"}) {
    const std::string text = SharedLog(file);
    SKIP_WITHOUT_SHARED(text);
    ExpectError(text, "bad.txt: no p2pBandwidthLatencyTest matrix", "");
  }
}

// ---------------------------------------------------------------------------
// Hand-written runs.

const char* kGood =
    "[P2P (Peer-to-Peer) GPU Bandwidth Latency Test]\n"
    "Device: 0, GPU A, pciBusID: 1, pciDeviceID: 0, pciDomainID:0\n"
    "Device: 1, GPU B, pciBusID: 2, pciDeviceID: 0, pciDomainID:0\n"
    "Device=0 CAN Access Peer Device=1\n"
    "Device=1 CAN Access Peer Device=0\n"
    "P2P Connectivity Matrix\n"
    "     D\\D     0     1\n"
    "     0\t     1     1\n"
    "     1\t     1     1\n"
    "Unidirectional P2P=Enabled Bandwidth (P2P Reads) Matrix (GB/s)\n"
    "   D\\D     0      1 \n"
    "     0 100.00  20.50 \n"
    "     1  21.25 101.00 \n"
    "P2P=Enabled Latency (P2P Reads) Matrix (us)\n"
    "   GPU     0      1 \n"
    "     0   1.00   2.00 \n"
    "     1   3.00   4.00 \n"
    "\n"
    "   CPU     0      1 \n"
    "     0   5.00   6.00 \n"
    "     1   7.00   8.00 \n";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

std::string WithLine(int line, const std::string& text) {
  std::vector<std::string> lines = Lines(kGood);
  lines[line - 1] = text;
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

TEST(P2pMatrixTest, ReadsHandWrittenRun) {
  const std::vector<P2pRun> runs = Parse(kGood);
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_EQ(runs[0].matrices.size(), 4u);
  EXPECT_TRUE(runs[0].access[1].can);
  EXPECT_EQ(runs[0].matrices[1].method, P2pMethod::kReads);
  EXPECT_DOUBLE_EQ(runs[0].matrices[1].At(1, 0), 21.25);
  EXPECT_EQ(runs[0].matrices[3].timer, P2pTimer::kCpu);
  EXPECT_DOUBLE_EQ(runs[0].matrices[3].At(1, 0), 7.00);
  // The same output twice: two runs.
  const std::vector<P2pRun> two = Parse(std::string(kGood) + "$ again\n" + kGood);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].line, 23);
  // Matrices alone, repeated: a repeated title starts the second run.
  const std::string bare = std::string(kGood).substr(std::string(kGood).find("Unidirectional"));
  const std::vector<P2pRun> repeated = Parse(bare + bare);
  ASSERT_EQ(repeated.size(), 2u);
  EXPECT_EQ(repeated[1].line, 13);
}

TEST(P2pMatrixTest, RejectsTruncatedMatrices) {
  ExpectError(WithLine(13, "     1  21.25"),
              "bad.txt:13:", "row 1 has 1 values, the header (line 11) names 2 devices");
  const std::string good = kGood;
  ExpectError(good.substr(0, good.find("     1  21.25")),
              "bad.txt:13:", "want the row of device 1 of 2 here (a truncated copy?)");
  ExpectError(WithLine(11, "   D\\D     0      2 "),
              "bad.txt:11:", "want a header row 'D\\D  0  1 ...'");
  ExpectError(WithLine(15, "   D\\D     0      1 "),
              "bad.txt:15:", "want a header row 'GPU  0  1 ...'");
}

TEST(P2pMatrixTest, RejectsValuesNotAsPrinted) {
  ExpectError(WithLine(12, "     0 100.00  20.5 "),
              "bad.txt:12:", "'20.5' at [0][1] is not a figure printed as %.2f GB/s");
  ExpectError(WithLine(12, "     0 100.00  nan "), "bad.txt:12:", "'nan' at [0][1]");
  ExpectError(WithLine(12, "     0 100.00  -2.00 "), "bad.txt:12:", "'-2.00' at [0][1]");
  // Printed as %.2f, but beyond a double (it read past the end before).
  const std::string huge = std::string(320, '9') + ".00";
  ExpectError(WithLine(12, "     0 100.00  " + huge + " "), "bad.txt:12:",
              "'" + huge + "' at [0][1] is not a figure printed as %.2f GB/s");
  ExpectError(WithLine(8, "     0\t     1     2"), "bad.txt:8:", "'2' at [0][1] is not 0 or 1");
  ExpectError(WithLine(8, "     0\t     0     1"),
              "bad.txt:8:", "[0][0] is 0, the program prints 1 on the diagonal");
}

TEST(P2pMatrixTest, RejectsRunsThatDisagree) {
  ExpectError(WithLine(4, "Device=0 CANNOT Access Peer Device=1"),
              "bad.txt:4:", "says CANNOT but the connectivity matrix (line 7) has 1 at [0][1]");
  ExpectError(WithLine(3, "Device: 2, GPU B, pciBusID: 2, pciDeviceID: 0, pciDomainID:0"),
              "bad.txt:3:", "Device 2 where device 1 belongs");
  ExpectError(WithLine(3, ""), "bad.txt:2:", "1 Device lines, the matrices have 2 devices");
  std::string three =
      std::string(kGood) +
      "Bidirectional P2P=Enabled Bandwidth Matrix (GB/s)\n"
      "   D\\D     0      1      2\n"
      "     0   1.00   1.00   1.00\n     1   1.00   1.00   1.00\n     2   1.00   1.00   1.00\n";
  ExpectError(three, "bad.txt:23:", "3 devices, the run's first matrix (line 7) has 2");
  ExpectError(WithLine(10, "Unidirectional P2P=Enabled Bandwidth (P2P Pushes) Matrix (GB/s)"),
              "bad.txt:10:", "is not a p2pBandwidthLatencyTest matrix title");
}

}  // namespace
}  // namespace epsim::measure
