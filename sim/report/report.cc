#include "sim/report/report.h"

#include "sim/report/formats.h"

namespace epsim::report {

Result<Format> ParseFormat(const std::string& name) {
  if (name == "console") return Format::kConsole;
  if (name == "csv") return Format::kCsv;
  if (name == "json") return Format::kJson;
  return Status::Usage("unknown format '" + name + "' (expected console, csv or json)");
}

void WriteSimulation(std::ostream& out, Format format, const RunInfo& info,
                     const std::vector<proto::Report>& reports) {
  switch (format) {
    case Format::kConsole:
      WriteConsole(out, info, reports);
      break;
    case Format::kCsv:
      out << SimulationCsv(reports);
      break;
    case Format::kJson:
      WriteJson(out, info, reports);
      break;
  }
  out.flush();
}

const char* PhaseName(proto::PhaseKind kind) {
  switch (kind) {
    case proto::ATTENTION: return "attention";
    case proto::SHARED_EXPERT: return "shared_expert";
    case proto::DENSE_FFN: return "dense_ffn";
    case proto::GATE_PERMUTE: return "gate_permute";
    case proto::DISPATCH: return "dispatch";
    case proto::EXPERT: return "expert";
    case proto::COMBINE: return "combine";
    case proto::UNPERMUTE_REDUCE: return "unpermute_reduce";
    case proto::DISPATCH_FORWARD: return "dispatch_forward";
    case proto::COMBINE_GATHER: return "combine_gather";
    case proto::ATTENTION_BACKWARD: return "attention_bwd";
    case proto::SHARED_EXPERT_BACKWARD: return "shared_expert_bwd";
    case proto::DENSE_FFN_BACKWARD: return "dense_ffn_bwd";
    case proto::GATE_PERMUTE_BACKWARD: return "gate_permute_bwd";
    case proto::COMBINE_BACKWARD: return "combine_bwd";
    case proto::EXPERT_BACKWARD: return "expert_bwd";
    case proto::DISPATCH_BACKWARD: return "dispatch_bwd";
    case proto::UNPERMUTE_REDUCE_BACKWARD: return "unpermute_reduce_bwd";
    case proto::GRADIENT_ALLREDUCE: return "gradient_allreduce";
    default: return "unspecified";
  }
}

}  // namespace epsim::report
