// Measurements as `epsim calibrate` uses them: every measured time, the
// schedule the simulator replays to predict it, and the keys the held-out
// split selects by. Inputs, each named by file in every message:
//  - measured Reports (`epsim-hw run --json`): each run becomes one schedule,
//    planned again from the report's "plan" input (a plan file) or its "job"
//    input (the flags that planned it, plan::JobArgs) on the calibration's
//    topology, and observations of the per-rank busy time of each phase
//    kind summed over layers (busy_max) plus the pass time;
//  - nccl-tests logs (sim/measure/nccl_tests_log.h, AddLogFile), every table in a file:
//    each row's out-of-place time becomes one observation, predicted by the
//    benchmark schedule `epsim bench` replays for it (sendrecv, alltoall,
//    and ring all_reduce / all_gather / reduce_scatter); in-place columns
//    are not used (the model has no in-place difference). Tests the model
//    has no schedule for (broadcast, reduce, gather, scatter) are skipped
//    and said so in `notes`, as are all-reduce tables of 4 or more H100 /
//    H200 / H800 / B200 GPUs, which NCCL runs with NVLS (in-switch
//    reduction, out of reach of a ring or tree model).
// No SimGrid here: the schedules are replayed by evaluate.h.
#ifndef EPSIM_SIM_CALIBRATE_MEASUREMENTS_H_
#define EPSIM_SIM_CALIBRATE_MEASUREMENTS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/report.pb.h"
#include "sim/proto/schedule.pb.h"

namespace epsim::calibrate {

enum class Quantity {
  kPhaseBusy,  // sum over layers of busy_max of the phases of one kind
  kTotal,      // the report's total_time (a run's pass, a benchmark's time)
};

struct Observation {
  std::string file;   // the input as named
  std::string where;  // "dedup, 2 ranks, 2048 tokens" / "line 212"
  std::string kind;   // what is timed: a phase kind ("expert"), "pass", or a test ("all_reduce")
  size_t schedule = 0;  // index into MeasurementSet::schedules
  Quantity quantity = Quantity::kTotal;
  proto::PhaseKind phase = proto::PHASE_UNSPECIFIED;  // kPhaseBusy
  double measured_s = 0;
  // Held-out split keys.
  std::string series;     // observations of one sweep (every other size within it)
  uint64_t size = 0;      // bytes (benchmarks) or tokens per layer (runs)
  uint32_t num_ranks = 0;
  std::string strategy;   // runs: the dispatch strategy; benchmarks: the test
  // Whether the fit uses it: runs fit their phases and report the pass
  // (a sum of what the phases time, plus waits).
  bool fitted = true;
};

struct InputFile {
  std::string path;
  std::string sha256;  // of its bytes, hex
};

// The fastest direct peer copy p2pBandwidthLatencyTest measured on a
// machine: its copy-engine cudaMemcpyPeer transfers are not NCCL's
// transports, so they only bound what a PCIe link can carry: calibration
// keeps links.PCIE bandwidth at or below it.
struct LinkCeiling {
  std::string where;  // "file:line" of the matrix
  double gb_per_s = 0;
};

struct MeasurementSet {
  std::vector<proto::Schedule> schedules;
  std::vector<Observation> observations;
  std::vector<InputFile> files;
  std::vector<LinkCeiling> pcie_ceilings;
  std::vector<std::string> notes;  // what was read but not used, and why
};

// Adds every run of the measured report `path`. `topology` is the
// calibration's topology (a name or file) on which the runs are planned
// again. BadInput naming the file when it is not a measured report, names
// neither a plan nor a job, or its plan's rank count or phases disagree
// with the report.
Status AddMeasuredReport(const std::string& path, const std::string& topology,
                         MeasurementSet* set);

// A text log as published, read once: every nccl-tests (or epsim bench)
// table in it (`test`: the test name for tables whose command the log
// lacks, as ParseNcclTestsLog takes it; `table` > 0: only the table-th
// table, 1-based, Usage when the file has fewer; a table of more ranks than
// `max_ranks`, the topology's, is BadInput naming its line), and its
// p2pBandwidthLatencyTest unidirectional P2P=Enabled bandwidth matrices, if
// it has any (a "P2P=... Matrix" title), as a PCIe ceiling over the pairs
// its connectivity matrix says can access each other (host-staged copies
// bound nothing). BadInput when it holds neither, or either is malformed.
Status AddLogFile(const std::string& path, const std::string& test, uint32_t max_ranks,
                  int table, MeasurementSet* set);

// The simulated value of `obs` from the report of its schedule.
double SimulatedSeconds(const Observation& obs, const proto::Report& report);

// SHA-256 of a file's bytes, lowercase hex.
Result<std::string> Sha256OfFile(const std::string& path);

}  // namespace epsim::calibrate

#endif  // EPSIM_SIM_CALIBRATE_MEASUREMENTS_H_
