// Matrices of CUDA samples' p2pBandwidthLatencyTest
// (Samples/5_Domain_Specific/p2pBandwidthLatencyTest), read from the logs
// people publish: pairwise copy bandwidth and latency between the GPUs of
// one host, with peer-to-peer access on and off. Strict, like
// nccl_tests_log.h: a matrix is returned only when it is whole and
// printed as the program prints it.
//
// The input. One run prints a banner, one line per device, the peer
// access of each pair, then titled matrices, each a header row of device
// indices and one row per device:
//
//   [P2P (Peer-to-Peer) GPU Bandwidth Latency Test]
//   Device: 0, NVIDIA GeForce RTX 2080 Ti, pciBusID: b4, pciDeviceID: 0, pciDomainID:0
//   Device=0 CANNOT Access Peer Device=1
//   P2P Connectivity Matrix
//        D\D     0     1
//        0       1     0                         <- "%6d\t" then "%6d" per device
//   Unidirectional P2P=Disabled Bandwidth Matrix (GB/s)
//      D\D     0      1
//        0 541.84   5.71                         <- "%6d " then "%6.02f " per device
//   P2P=Disabled Latency Matrix (us)
//      GPU     0      1                          <- GPU-timed block
//        0   1.33  14.76
//
//      CPU     0      1                          <- CPU-timed block after a blank line
//        0   3.55  11.08
//
// Titles, in the order printed: "P2P Connectivity Matrix";
// "Unidirectional P2P=Disabled Bandwidth Matrix (GB/s)"; "Unidirectional
// P2P=Enabled Bandwidth (P2P Writes) Matrix (GB/s)"; with --p2p_read also
// "(P2P Reads)"; "Bidirectional P2P=Disabled|Enabled Bandwidth Matrix
// (GB/s)"; "P2P=Disabled Latency Matrix (us)"; "P2P=Enabled Latency (P2P
// Writes) Matrix (us)" (and "(P2P Reads)").
//
// What the figures mean (the sample's source): values[i][j] is measured
// on device i's stream. P2P Writes: device i's copy engine writes into
// device j; Reads: device i reads from device j; P2P=Disabled: the same
// copy without peer access, which the driver stages through host memory.
// Bandwidth in GB/s (GB = 1e9 B) of a cudaMemcpyPeerAsync loop;
// bidirectional: copies both ways at once, counting both directions. The
// diagonal is a copy inside device i, counting its read and its write.
// Latency in us per copy of one int: the GPU block timed with CUDA events,
// the CPU block on the host (the time to issue the copy).
//
// Checks (BadInput "file:line: ..."): a title not of the program's, a
// header row that does not number the devices 0..n-1 after its corner
// (D\D, or GPU / CPU for latency), a missing row or a row with other than
// n values (a truncated copy), values not printed as "%.2f" (bandwidth,
// latency) or 0 / 1 (connectivity, 1 on the diagonal), matrices of one run
// with different n, Device lines disagreeing with n, and CAN / CANNOT
// Access lines disagreeing with the connectivity matrix. Other lines (the
// NOTE, shell prompts) are skipped.
#ifndef EPSIM_SIM_MEASURE_P2P_MATRIX_H_
#define EPSIM_SIM_MEASURE_P2P_MATRIX_H_

#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::measure {

enum class P2pMatrixKind { kConnectivity, kBandwidth, kLatency };
// Which peer copy "P2P=Enabled" measured: "(P2P Writes)", "(P2P Reads)";
// kUnspecified for the connectivity, P2P=Disabled and bidirectional
// matrices, whose titles say none.
enum class P2pMethod { kUnspecified, kWrites, kReads };
// Latency matrices come in two blocks: GPU-timed and CPU-timed.
enum class P2pTimer { kNone, kGpu, kCpu };

struct P2pMatrix {
  std::string file;
  int title_line = 0;  // 1-based
  int line = 0;        // the block's header row ("   D\D     0      1")
  std::string title;   // as printed, trailing blanks removed
  P2pMatrixKind kind = P2pMatrixKind::kBandwidth;
  bool bidirectional = false;  // bandwidth only
  bool p2p_enabled = false;    // "P2P=Enabled"; false for connectivity
  P2pMethod method = P2pMethod::kUnspecified;
  P2pTimer timer = P2pTimer::kNone;  // latency: kGpu or kCpu
  std::string units;                 // "GB/s", "us"; "" for connectivity (1: peer access)
  int num_devices = 0;
  std::vector<std::vector<double>> values;  // [i][j], see above

  double At(int i, int j) const { return values[i][j]; }
};

// "Device: 0, NVIDIA GeForce RTX 2080 Ti, pciBusID: b4, pciDeviceID: 0,
// pciDomainID:0" (hexadecimal as printed).
struct P2pDevice {
  int index = 0;
  std::string name;
  std::string pci_bus_id, pci_device_id, pci_domain_id;
  int line = 0;
};

// "Device=0 CANNOT Access Peer Device=1".
struct P2pAccess {
  int device = 0, peer = 0;
  bool can = false;
  int line = 0;
};

// One run of the program: its banner (when the log has it), devices and
// matrices in the order printed. A log that holds only matrices (a partial
// copy) gives runs without devices; a matrix title repeated starts a new
// run.
struct P2pRun {
  std::string file;
  int line = 0;  // the banner, or the first matrix title
  std::vector<P2pDevice> devices;
  std::vector<P2pAccess> access;
  std::vector<P2pMatrix> matrices;
  int num_devices() const { return matrices.empty() ? 0 : matrices[0].num_devices; }
};

// Every run in `text`; BadInput as listed above, and when `text` holds no
// matrix.
Result<std::vector<P2pRun>> ParseP2pBandwidthLatencyLog(const std::string& text,
                                                        const std::string& file);
// The same for the file at `path` (named by `path` in messages).
Result<std::vector<P2pRun>> ReadP2pBandwidthLatencyFile(const std::string& path);

}  // namespace epsim::measure

#endif  // EPSIM_SIM_MEASURE_P2P_MATRIX_H_
