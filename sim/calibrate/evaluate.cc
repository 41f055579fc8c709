#include "sim/calibrate/evaluate.h"

#include <cstring>
#include <string>

#include "sim/base/child_process.h"

namespace epsim::calibrate {
namespace {

// The child's result: a count, then length-prefixed serialized Reports.
void AppendU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<char*>(&v), 8); }

bool ReadU64(const std::string& in, size_t* pos, uint64_t* v) {
  if (*pos + 8 > in.size()) return false;
  std::memcpy(v, in.data() + *pos, 8);
  *pos += 8;
  return true;
}

}  // namespace

std::string EncodeReports(const std::vector<proto::Report>& reports) {
  std::string message;
  AppendU64(&message, reports.size());
  for (const proto::Report& r : reports) {
    std::string bytes;
    r.SerializeToString(&bytes);
    AppendU64(&message, bytes.size());
    message += bytes;
  }
  return message;
}

Result<std::vector<proto::Report>> DecodeReports(const std::string& message) {
  size_t pos = 0;
  uint64_t count = 0;
  std::vector<proto::Report> reports;
  if (!ReadU64(message, &pos, &count)) return Status::Internal("truncated simulation result");
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t length = 0;
    if (!ReadU64(message, &pos, &length) || pos + length > message.size())
      return Status::Internal("truncated simulation result");
    proto::Report r;
    if (!r.ParseFromArray(message.data() + pos, static_cast<int>(length)))
      return Status::Internal("unreadable simulation result");
    pos += length;
    reports.push_back(std::move(r));
  }
  return reports;
}

Result<std::vector<proto::Report>> SimulateInChild(const proto::Topology& topo,
                                                   const std::vector<proto::Schedule>& schedules,
                                                   const engine::SimOptions& opts) {
  auto simulate = [&]() -> Result<std::string> {
    EPSIM_ASSIGN_OR_RETURN(engine::SimResult result, engine::Simulate(topo, schedules, opts));
    return EncodeReports(result.reports);
  };
  EPSIM_ASSIGN_OR_RETURN(std::string message, RunInChild(simulate));
  return DecodeReports(message);
}

}  // namespace epsim::calibrate
