// Structural checks of a Schedule (sim/proto/schedule.proto) before replay.
// No SimGrid here.
#ifndef EPSIM_SIM_EXEC_SCHEDULE_CHECK_H_
#define EPSIM_SIM_EXEC_SCHEDULE_CHECK_H_

#include <cstddef>

#include "sim/base/status.h"
#include "sim/proto/schedule.pb.h"

namespace epsim::exec {

// True for an all-to-all phase: its declared phase_class, or for schedules
// written before phases declared one, DISPATCH or COMBINE or any phase
// carrying a send matrix. Every other phase is compute.
bool IsAllToAll(const proto::Phase& phase);

// Whether the schedule overlaps communication with compute: some phase
// does not wait for the one before it (e.g. --overlap shared-expert). The
// executors run such a schedule on two streams per rank (the simulator
// with SM occupancy, the harness with a communication stream); a schedule
// that chains every phase runs as one stream.
bool HasOverlap(const proto::Schedule& schedule);

// Whether some MoE block's gate comes before an earlier block's un-permute
// reduce (ScMoE's shortcut: block j+1's dispatch is issued inside block j),
// so that two blocks' all-to-all buffers are live at once.
bool LayersInterleave(const proto::Schedule& schedule);

// Returns BadInput naming the phase and the problem unless:
//  - 1 <= num_ranks <= num_gpus;
//  - phases[i].id == i and every depends_on entry < i;
//  - an all-to-all has num_ranks^2 send_bytes ([src][dst], zero diagonal) and
//    0 or num_ranks^2 send_rows; a compute phase has num_ranks work entries;
//  - every kernel has finite flops >= 0 and bytes >= 0.
Status ValidateSchedule(const proto::Schedule& schedule, size_t num_gpus);

}  // namespace epsim::exec

#endif  // EPSIM_SIM_EXEC_SCHEDULE_CHECK_H_
