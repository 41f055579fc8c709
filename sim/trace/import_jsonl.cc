// JSONL routing logs (one object per token and layer) -> trace.
//
// Lines are read one at a time; memory holds only the current forward step's
// token table, never the file.
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/trace/import_internal.h"
#include "sim/trace/writer.h"

namespace epsim::trace {

namespace {

using nlohmann::json;

// One routing line, parsed but not yet placed in a step.
struct JsonlRow {
  uint32_t layer = 0;
  bool has_pos = false;
  uint64_t pos = 0;
  uint64_t sequence = 0;
  std::vector<uint32_t> experts;
  std::vector<float> probs;
};

Status GetUint(const json& obj, const char* key, uint64_t max, uint64_t* out) {
  const json& v = obj.at(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
    return Status::BadInput(fmt::format("\"{}\" is {}, expected an integer in 0..{}", key,
                                        v.dump(), max));
  *out = v.get<uint64_t>();
  return Status::Ok();
}

Status GetExperts(const json& obj, std::vector<uint32_t>* experts) {
  const json& v = obj.at("experts");
  if (!v.is_array() || v.empty())
    return Status::BadInput("\"experts\" must be a non-empty array of expert ids");
  for (const json& e : v) {
    if (!e.is_number_unsigned() || e.get<uint64_t>() > std::numeric_limits<uint32_t>::max())
      return Status::BadInput(fmt::format("\"experts\" holds {}, not an expert id", e.dump()));
    experts->push_back(e.get<uint32_t>());
  }
  return Status::Ok();
}

Status GetProbs(const json& obj, std::vector<float>* probs) {
  const json& v = obj.at("gating_probs");
  if (!v.is_array()) return Status::BadInput("\"gating_probs\" must be an array of numbers");
  for (const json& p : v) {
    if (!p.is_number() || !std::isfinite(p.get<double>()))
      return Status::BadInput(fmt::format("\"gating_probs\" holds {}, not a number", p.dump()));
    probs->push_back(p.get<float>());
  }
  return Status::Ok();
}

// Parses one line; errors carry no location (the caller adds file:line).
Status ParseRow(const std::string& line, JsonlRow* row) {
  const json obj = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded()) return Status::BadInput("malformed JSON");
  if (!obj.is_object()) return Status::BadInput("not a JSON object");
  for (const char* key : {"layer", "experts", "gating_probs"}) {
    if (!obj.contains(key)) return Status::BadInput(fmt::format("missing \"{}\"", key));
  }
  uint64_t layer = 0;
  EPSIM_RETURN_IF_ERROR(GetUint(obj, "layer", std::numeric_limits<uint32_t>::max(), &layer));
  row->layer = static_cast<uint32_t>(layer);
  row->has_pos = obj.contains("token_pos");
  if (row->has_pos)
    EPSIM_RETURN_IF_ERROR(GetUint(obj, "token_pos", std::numeric_limits<uint64_t>::max(), &row->pos));
  if (obj.contains("problem_id"))
    EPSIM_RETURN_IF_ERROR(
        GetUint(obj, "problem_id", std::numeric_limits<uint64_t>::max(), &row->sequence));
  EPSIM_RETURN_IF_ERROR(GetExperts(obj, &row->experts));
  EPSIM_RETURN_IF_ERROR(GetProbs(obj, &row->probs));
  if (row->experts.size() != row->probs.size())
    return Status::BadInput(fmt::format("{} experts but {} gating_probs", row->experts.size(),
                                        row->probs.size()));
  return Status::Ok();
}

class JsonlImporter {
 public:
  explicit JsonlImporter(const ImportOptions& options) : options_(options) {}

  Status ImportFile(const std::string& file);
  Status Finish();

 private:
  Status AddRow(JsonlRow& row);
  Status StartWriter(uint32_t num_topk);
  void TrackStep(uint32_t layer);
  uint64_t TokenOf(uint64_t pos);

  const ImportOptions& options_;
  std::unique_ptr<TraceWriter> writer_;  // created at the first line: it fixes num_topk
  uint32_t num_topk_ = 0;
  bool have_prev_ = false;
  uint32_t prev_layer_ = 0;
  uint64_t next_token_ = 0;
  // The current forward step only: position -> token id, rows seen per
  // layer (the default position), and (layer, position) pairs seen.
  std::unordered_map<uint64_t, uint64_t> step_tokens_;
  std::unordered_map<uint32_t, uint64_t> step_layer_rows_;
  std::set<std::pair<uint32_t, uint64_t>> step_seen_;
};

Status JsonlImporter::ImportFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) return Status::NotFound(file + ": cannot open");
  std::string line;
  uint64_t line_no = 0;
  uint64_t rows = 0;
  JsonlRow row;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    row = JsonlRow();
    Status st = ParseRow(line, &row);
    if (st.ok()) st = AddRow(row);
    if (!st.ok()) return st.WithContext(fmt::format("{}:{}", file, line_no));
    ++rows;
  }
  if (in.bad()) return Status::IoError(file + ": read failed");
  if (rows == 0) return LineError(file, 1, "empty file (no routing lines)");
  return Status::Ok();
}

Status JsonlImporter::StartWriter(uint32_t num_topk) {
  num_topk_ = num_topk;
  auto writer = TraceWriter::Create(options_.output, MakeImportHeader(options_, "jsonl", num_topk));
  if (!writer.ok()) return writer.status();
  writer_ = std::move(writer).value();
  return Status::Ok();
}

// A step starts when the layer goes down: prefill logs every layer for the
// batch, then each decode step logs the layers again.
void JsonlImporter::TrackStep(uint32_t layer) {
  if (have_prev_ && layer < prev_layer_) {
    step_tokens_.clear();
    step_layer_rows_.clear();
    step_seen_.clear();
  }
  have_prev_ = true;
  prev_layer_ = layer;
}

// Tokens are numbered by first appearance of (step, position).
uint64_t JsonlImporter::TokenOf(uint64_t pos) {
  auto [it, inserted] = step_tokens_.try_emplace(pos, next_token_);
  if (inserted) ++next_token_;
  return it->second;
}

Status JsonlImporter::AddRow(JsonlRow& row) {
  if (!writer_) EPSIM_RETURN_IF_ERROR(StartWriter(static_cast<uint32_t>(row.experts.size())));
  if (row.experts.size() != num_topk_)
    return Status::BadInput(fmt::format("{} experts, earlier lines have {}", row.experts.size(),
                                        num_topk_));
  TrackStep(row.layer);
  // Without "token_pos", a row's position is its order within the layer.
  uint64_t& layer_rows = step_layer_rows_[row.layer];
  if (!row.has_pos) row.pos = layer_rows;
  ++layer_rows;
  if (!step_seen_.emplace(row.layer, row.pos).second)
    return Status::BadInput(fmt::format("layer {} token_pos {} repeated within one step",
                                        row.layer, row.pos));
  return writer_->Add(row.layer, TokenOf(row.pos), row.sequence, row.experts.data(),
                      row.probs.data());
}

Status JsonlImporter::Finish() {
  if (!writer_) return Status::BadInput("no routing lines in the inputs");
  return writer_->Finish();
}

}  // namespace

Status ImportJsonl(const ImportOptions& options) {
  JsonlImporter importer(options);
  for (const std::string& file : options.inputs) EPSIM_RETURN_IF_ERROR(importer.ImportFile(file));
  return importer.Finish();
}

}  // namespace epsim::trace
