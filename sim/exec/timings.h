// Timings of one executed Schedule -> the Report every executor writes
// (sim/proto/report.proto). The SimGrid engine and the hardware harness
// both fill an OpTimes and call AssembleReport, so simulated and measured
// reports are built by the same code and can be diffed. No SimGrid, no CUDA.
#ifndef EPSIM_SIM_EXEC_TIMINGS_H_
#define EPSIM_SIM_EXEC_TIMINGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/proto/report.pb.h"
#include "sim/proto/schedule.pb.h"

namespace epsim::exec {

// One op = one phase on one rank. Times in seconds from the start of the
// pass. Measured runs give the median over timed passes in start_s/end_s
// and the range of end - start over passes in busy_min_s/busy_max_s
// (simulated runs leave those empty: they equal end - start).
struct OpTimes {
  uint32_t num_ranks = 0;
  std::vector<double> start_s;     // [phase * num_ranks + rank]
  std::vector<double> end_s;
  std::vector<uint64_t> bytes;     // bytes the rank sent in the phase (all-to-alls)
  std::vector<double> busy_min_s;  // optional, same indexing
  std::vector<double> busy_max_s;

  OpTimes(uint32_t num_phases, uint32_t ranks);
  size_t Index(uint32_t phase, uint32_t rank) const { return size_t{phase} * num_ranks + rank; }
};

// Builds the Report: per op an OpTiming, per phase a PhaseTiming (earliest
// start and latest end over ranks, the rank that ended last, bytes and rows
// of the send matrix, per-rank busy time max and mean, critical-path time,
// wait on skew), total_time_s = `pass_time_s` when >= 0 (measured runs: the
// median pass), else the latest end of any phase. `source` is "simulated"
// or "measured".
//
// Critical path: from the op that ends last, back through what each op
// waited for (the executors' rule, schedule.proto: its dependencies on its
// rank; for an all-to-all also those of every rank sending to it; for a
// compute op also its rank's previous compute op), the latest-ending one
// that ended by the time it ended (any, when none did: measured medians of
// different ranks need not be consistent). Each op on the path is given the
// time from its predecessor's end to its own end, the last op also the time
// to the end of the pass, so the phases' shares add up to total_time_s
// exactly; where medians are inconsistent, an op's share is clipped at 0 and
// the next op back takes the rest.
proto::Report AssembleReport(const proto::Schedule& schedule, const std::string& source,
                             const std::string& topology, const OpTimes& times,
                             double pass_time_s = -1.0);

}  // namespace epsim::exec

#endif  // EPSIM_SIM_EXEC_TIMINGS_H_
