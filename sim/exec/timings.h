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
// of the send matrix, per-rank busy time max and mean), total_time_s = the
// latest end of any phase. `source` is "simulated" or "measured".
proto::Report AssembleReport(const proto::Schedule& schedule, const std::string& source,
                             const std::string& topology, const OpTimes& times);

}  // namespace epsim::exec

#endif  // EPSIM_SIM_EXEC_TIMINGS_H_
