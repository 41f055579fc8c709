// Counting a trace file's layers while it streams in, one layer at a time,
// so that a prefill or train pass is planned without the whole trace in
// memory: the calling thread reads and checks records (TraceReader) into
// the buffer of their layer; a layer whose rows are all in (the header's
// num_tokens) goes to a worker, which counts it for every strategy of the
// run as BuildSchedule would (CountForPlan) and hands the buffer back for
// the next layer. Memory: the layers being filled, one full layer waiting
// and one being counted per worker, instead of the whole trace; a file
// whose records interleave
// every layer (a token-major import) still fills them all at once.
//
// The counts are those of BuildSchedule on the whole trace, bit for bit:
// the same rows in the same order reach the same CountLayer.
#ifndef EPSIM_SIM_PLAN_STREAM_COUNT_H_
#define EPSIM_SIM_PLAN_STREAM_COUNT_H_

#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/plan/schedule_builder.h"
#include "sim/trace/trace.h"

namespace epsim::plan {

// The trace of a streamed run before its rows are read: the file's header,
// and one LayerRouting per header layer holding its number, top-k and
// candidates but no rows.
Result<trace::Trace> ReadTraceSkeleton(const std::string& path);

// Reads the trace at `path` once and counts every layer for each of
// `plans` (one per strategy; their trace is the file's skeleton, their
// pass prefill or train, their strategy not Luffy's). Returns, per plan,
// one CountedLayer per skeleton layer in its order: what
// PlanInputs::counted takes. Errors: the reader's (naming the file and the
// record), a header other than the plans' (the file changed since
// ReadTraceSkeleton), a layer with more rows than its header says, or the
// first layer's (in trace order) planning error. The file is opened a
// second time: `path` must be a regular file (LoadRunInputs streams only
// those), not a pipe.
Result<std::vector<std::vector<CountedLayer>>> CountStreamed(const std::string& path,
                                                             const std::vector<PlanInputs>& plans);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_STREAM_COUNT_H_
