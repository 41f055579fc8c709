// Replays schedules on a candidate topology in a child process. SimGrid
// allows one Engine per process and a fit replays the same schedules on
// hundreds of candidate topologies, so each evaluation forks: the child
// runs engine::Simulate and sends the Reports (or its error) back through a
// pipe, the parent never starts SimGrid. The child's stdout and stderr go
// to /dev/null (SimGrid's log lines would interleave with the fit's output).
#ifndef EPSIM_SIM_CALIBRATE_EVALUATE_H_
#define EPSIM_SIM_CALIBRATE_EVALUATE_H_

#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/engine/simulator.h"
#include "sim/proto/report.pb.h"
#include "sim/proto/schedule.pb.h"
#include "sim/proto/topology.pb.h"

namespace epsim::calibrate {

// Reports as the bytes a child process sends back, and read back
// (Internal on a truncated or unreadable message).
std::string EncodeReports(const std::vector<proto::Report>& reports);
Result<std::vector<proto::Report>> DecodeReports(const std::string& message);

// engine::Simulate(topo, schedules, opts).reports, run in a child process
// (sim/base/child_process.h).
// Its errors come back as they are; a child that dies gives Internal.
Result<std::vector<proto::Report>> SimulateInChild(const proto::Topology& topo,
                                                   const std::vector<proto::Schedule>& schedules,
                                                   const engine::SimOptions& opts);

}  // namespace epsim::calibrate

#endif  // EPSIM_SIM_CALIBRATE_EVALUATE_H_
