// TraceReader: reads a routing trace stream (FORMATS.md), version 1 or 2,
// one record at a time, so memory stays bounded whatever the file size.
// Every record is validated against the header (and its checksum, version
// 2); errors name the file and the record. A trace without scores
// (scores_absent) is handed out with 1 / num_topk for every selected expert
// and 0 for further candidates, so that combine arithmetic is defined;
// whatever ranks by score must check the header.
#ifndef EPSIM_SIM_TRACE_READER_H_
#define EPSIM_SIM_TRACE_READER_H_

#include <memory>
#include <string>

#include "sim/base/status.h"
#include "sim/proto/trace.pb.h"
#include "sim/trace/trace.h"

namespace epsim::trace {

class TraceReader {
 public:
  // Opens `path` and reads and checks the header.
  static Result<std::unique_ptr<TraceReader>> Open(const std::string& path);
  ~TraceReader();

  const proto::TraceHeader& header() const;

  // Reads the next record into `record`. Returns false at a clean end of
  // stream; a truncated or invalid record is an error naming the record.
  Result<bool> Next(proto::LayerRecord* record);

 private:
  class Impl;
  explicit TraceReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a whole trace into memory, records of a layer concatenated in order;
// LayerRouting::steps is filled when the trace has more than one step.
Result<Trace> ReadTrace(const std::string& path);

// Checks a header on its own: version, num_topk <= num_candidates <=
// num_experts, layers ascending and unique, num_layers == layers_size(),
// version-2 fields only in version 2, steps when there are tokens.
Status ValidateHeader(const proto::TraceHeader& header);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_READER_H_
