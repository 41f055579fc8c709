#include "sim/trace/validate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <vector>

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
      index_of_.clear();
      sequence_of_.clear();
      seen_by_layer_.clear();
      step_ = rec.step();
    }
    // One bit per distinct token of the step and layer: the token table is
    // shared by the layers, so a step of T tokens over L layers costs about
    // 40 T + L T / 8 bytes, not L hash sets of T ids.
    std::vector<uint64_t>& seen = seen_by_layer_[rec.layer()];
    for (int t = 0; t < rec.token_ids_size(); ++t) {
      const uint64_t token = rec.token_ids(t);
      auto where = [&] {
        return fmt::format("{}: record {} (layer {}, token {})", path_, record_index, rec.layer(),
                           token);
      };
      const auto [it, fresh] = index_of_.emplace(token, sequence_of_.size());
      if (fresh) sequence_of_.push_back(rec.sequence_ids(t));
      const uint64_t index = it->second;
      if (seen.size() <= index / 64) seen.resize(index / 64 + 1, 0);
      const uint64_t bit = uint64_t{1} << (index % 64);
      if (seen[index / 64] & bit)
        return Status::BadInput(where() + fmt::format(": token appears twice in the layer{}",
                                                      header_.num_steps() > 1
                                                          ? fmt::format(" in step {}", step_)
                                                          : std::string()));
      seen[index / 64] |= bit;
      if (sequence_of_[index] != rec.sequence_ids(t))
        return Status::BadInput(where() + fmt::format(": sequence {} here but {} in another layer",
                                                      rec.sequence_ids(t), sequence_of_[index]));
    }
    return Status::Ok();
  }

 private:
  const std::string& path_;
  const proto::TraceHeader& header_;
  std::unordered_map<uint64_t, uint64_t> index_of_;  // token id -> dense index in the step
  std::vector<uint64_t> sequence_of_;               // by dense index
  std::map<uint32_t, std::vector<uint64_t>> seen_by_layer_;  // bitsets by dense index
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
