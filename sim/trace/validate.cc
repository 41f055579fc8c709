#include "sim/trace/validate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "sim/trace/reader.h"

namespace epsim::trace {
namespace {

class Validator {
 public:
  Validator(const std::string& path, const proto::TraceHeader& h) : path_(path), header_(h) {}

  Status Check(const proto::LayerRecord& rec, uint64_t record_index) {
    // Records come in step order (the reader checks it): a new step starts
    // afresh, so memory holds one step's tokens.
    if (rec.step() != step_) {
      tokens_by_layer_.clear();
      sequence_of_.clear();
      step_ = rec.step();
    }
    std::unordered_set<uint64_t>& seen = tokens_by_layer_[rec.layer()];
    for (int t = 0; t < rec.token_ids_size(); ++t) {
      const uint64_t token = rec.token_ids(t);
      auto where = [&] {
        return fmt::format("{}: record {} (layer {}, token {})", path_, record_index, rec.layer(),
                           token);
      };
      if (!seen.insert(token).second)
        return Status::BadInput(where() + fmt::format(": token appears twice in the layer{}",
                                                      header_.num_steps() > 1
                                                          ? fmt::format(" in step {}", step_)
                                                          : std::string()));
      auto [it, fresh] = sequence_of_.emplace(token, rec.sequence_ids(t));
      if (!fresh && it->second != rec.sequence_ids(t))
        return Status::BadInput(where() + fmt::format(": sequence {} here but {} in another layer",
                                                      rec.sequence_ids(t), it->second));
    }
    return Status::Ok();
  }

 private:
  const std::string& path_;
  const proto::TraceHeader& header_;
  std::map<uint32_t, std::unordered_set<uint64_t>> tokens_by_layer_;
  std::unordered_map<uint64_t, uint64_t> sequence_of_;
  uint64_t step_ = 0;
};

}  // namespace

Result<ValidationSummary> ValidateTrace(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, TraceReader::Open(path));
  Validator validator(path, reader->header());
  ValidationSummary summary;
  summary.layers = reader->header().num_layers();
  summary.steps = std::max<uint64_t>(reader->header().num_steps(), summary.layers > 0 ? 1 : 0);
  summary.version = reader->header().version();
  proto::LayerRecord record;
  while (true) {
    EPSIM_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    ++summary.records;
    summary.rows += record.token_ids_size();
    EPSIM_RETURN_IF_ERROR(validator.Check(record, summary.records));
  }
  return summary;
}

}  // namespace epsim::trace
