// JSON-lines routing logs (one object per token and layer, optional meta
// lines) -> trace. Lines are read one at a time; memory holds one line, the
// writer's pending records and the token tables (importer.h), never the file.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/trace/import_internal.h"
#include "sim/trace/import_jsonl_line.h"

namespace epsim::trace {

namespace {

// How a route row names its token (importer.h has the rules).
enum class TokenRule { kStepPosition, kRequestToken };

struct JsonlShape {
  const char* name;
  JsonlFields fields;
  TokenRule rule;
  bool has_type;  // rows carry "type": "route"
};

const JsonlShape kMixtral = {"mixtral",
                             {"layer", "experts", "gating_probs", "token_pos", "problem_id"},
                             TokenRule::kStepPosition,
                             false};
const JsonlShape kVllm = {"vllm",
                          {"layer", "topk_ids", "topk_weights", "token_idx", "req_id"},
                          TokenRule::kRequestToken,
                          true};

JsonlFields Resolve(const JsonlShape& shape, const ImportOptions& o) {
  JsonlFields f = shape.fields;
  if (!o.layer_field.empty()) f.layer = o.layer_field;
  if (!o.ids_field.empty()) f.ids = o.ids_field;
  if (!o.scores_field.empty()) f.scores = o.scores_field;
  if (!o.token_field.empty()) f.token = o.token_field;
  if (!o.sequence_field.empty()) f.sequence = o.sequence_field;
  return f;
}

// How well a route row's keys fit a shape: a row with all of the shape's
// (renamed) layer, ids and scores fields beats one without; then the more of
// its fields the row has, the better. 0 when the row has none of them.
int MatchScore(const JsonlShape& shape, const ImportOptions& options,
               const std::vector<std::string>& keys) {
  const JsonlFields f = Resolve(shape, options);
  auto has = [&keys](const std::string& k) {
    return std::find(keys.begin(), keys.end(), k) != keys.end() ? 1 : 0;
  };
  const int required = has(f.layer) + has(f.ids) + has(f.scores);
  const int present = required + has(f.token) + has(f.sequence) + (shape.has_type && has("type"));
  return present == 0 ? 0 : (required == 3 ? 10 : 0) + present;
}

// A row that fits neither shape fully still picks the closer one, so that
// the error names the missing field.
Result<const JsonlShape*> DetectShape(const ImportOptions& options,
                                      const std::vector<std::string>& keys) {
  if (options.jsonl_shape == "mixtral") return &kMixtral;
  if (options.jsonl_shape == "vllm") return &kVllm;
  const int mixtral = MatchScore(kMixtral, options, keys);
  const int vllm = MatchScore(kVllm, options, keys);
  if (mixtral > 0 && mixtral >= vllm) return &kMixtral;
  if (vllm > 0) return &kVllm;
  std::string names;
  for (const std::string& k : keys) names += (names.empty() ? "" : ", ") + k;
  return Status::BadInput(fmt::format(
      "cannot tell the log's shape from its fields ({}): expected mixtral's layer, experts, "
      "gating_probs or vllm's layer, topk_ids, topk_weights; name the fields with "
      "--layer-field, --ids-field and --scores-field",
      names));
}

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    return std::hash<uint64_t>()(p.first * 0x9e3779b97f4a7c15ULL ^ p.second);
  }
};

// Route rows each input holds, for the one-file-per-layer check.
struct FileRows {
  std::string file;
  std::set<uint32_t> layers;  // stops growing past 2: only "one or more" matters
  uint64_t kept_rows = 0;
};

class JsonlImporter {
 public:
  explicit JsonlImporter(const ImportOptions& options)
      : options_(options), sink_(options, "jsonl", /*dense_token_ids=*/true) {}

  Status ImportFile(const std::string& file);
  Result<ImportSummary> Finish();

 private:
  Status HandleLine(std::string& line);
  Status ApplyMeta(const JsonlLine& meta);
  Status ChooseShape(std::string& line);
  Status CheckRoute();
  Status AddRoute();
  Result<uint64_t> SequenceOf();
  Result<uint64_t> StepToken();
  Result<uint64_t> RequestToken(uint64_t sequence);
  void TrackStep(uint32_t layer);
  Status CheckOneFilePerLayer() const;

  const ImportOptions& options_;
  ImportSink sink_;
  JsonlLineParser parser_;
  JsonlLine row_;
  const JsonlShape* shape_ = nullptr;  // fixed by the first route row
  JsonlFields fields_;
  std::vector<FileRows> files_;
  uint64_t meta_top_k_ = 0;  // 0 = not given
  uint64_t next_token_ = 0;
  // Sequence ids: strings numbered by first appearance; kinds must not mix.
  enum class SeqKind { kUnknown, kInteger, kString } seq_kind_ = SeqKind::kUnknown;
  std::unordered_map<std::string, uint64_t> string_sequences_;
  // vllm rule: (sequence, token) -> token id, or rows kept per layer when the
  // rows have no token field.
  enum class TokenMode { kUnknown, kKeyed, kByOrder } token_mode_ = TokenMode::kUnknown;
  std::unordered_map<std::pair<uint64_t, uint64_t>, uint64_t, PairHash> request_tokens_;
  std::unordered_map<uint32_t, uint64_t> layer_order_;
  // mixtral rule, the current forward step only: position -> token id, rows
  // per layer (the default position), (layer, position) pairs seen.
  bool have_prev_ = false;
  uint32_t prev_layer_ = 0;
  std::unordered_map<uint64_t, uint64_t> step_tokens_;
  std::unordered_map<uint32_t, uint64_t> step_layer_rows_;
  std::set<std::pair<uint32_t, uint64_t>> step_seen_;
};

Status JsonlImporter::ImportFile(const std::string& file) {
  std::vector<char> buffer(1 << 20);
  std::ifstream in;
  in.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  in.open(file, std::ios::binary);
  if (!in) return Status::NotFound(file + ": cannot open");
  files_.push_back({file, {}, 0});
  std::string line;
  uint64_t line_no = 0;
  uint64_t used_lines = 0;
  while (std::getline(in, line)) {
    ++line_no;
    sink_.CountLine(line.size() + 1);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Status st = HandleLine(line);
    if (!st.ok()) return st.WithContext(fmt::format("{}:{}", file, line_no));
    ++used_lines;
  }
  if (in.bad()) return Status::IoError(file + ": read failed");
  if (used_lines == 0) {
    if (sink_.num_experts() == 0)
      return Status::Usage(
          "import: number of experts unknown: give a model or the number of experts");
    return LineError(file, 1, "empty file (no routing lines)");
  }
  return Status::Ok();
}

Status JsonlImporter::HandleLine(std::string& line) {
  if (shape_ == nullptr) return ChooseShape(line);
  EPSIM_RETURN_IF_ERROR(parser_.Parse(line, fields_, /*collect_keys=*/false, &row_));
  if (row_.is_meta) return ApplyMeta(row_);
  return AddRoute();
}

// Until the first route row the field names are unknown: parse for the keys,
// pick the shape, then parse again with its names.
Status JsonlImporter::ChooseShape(std::string& line) {
  EPSIM_RETURN_IF_ERROR(parser_.Parse(line, JsonlFields(), /*collect_keys=*/true, &row_));
  if (row_.is_meta) return ApplyMeta(row_);
  EPSIM_ASSIGN_OR_RETURN(shape_, DetectShape(options_, row_.keys));
  fields_ = Resolve(*shape_, options_);
  sink_.set_format(fmt::format("jsonl/{}", shape_->name));
  EPSIM_RETURN_IF_ERROR(parser_.Parse(line, fields_, /*collect_keys=*/false, &row_));
  return AddRoute();
}

Status JsonlImporter::ApplyMeta(const JsonlLine& meta) {
  if (meta.has_num_experts) {
    if (sink_.num_experts() != 0 && sink_.num_experts() != meta.num_experts)
      return Status::BadInput(fmt::format(
          "meta line says num_experts {}, but {} say{} {}", meta.num_experts,
          options_.num_experts != 0 ? "the model / --num-experts" : "an earlier meta line",
          options_.num_experts != 0 ? "" : "s", sink_.num_experts()));
    if (meta.num_experts == 0) return Status::BadInput("meta line says num_experts 0");
    sink_.set_num_experts(static_cast<uint32_t>(meta.num_experts));
  }
  if (meta.has_top_k) {
    if (meta_top_k_ != 0 && meta_top_k_ != meta.top_k)
      return Status::BadInput(fmt::format("meta line says top_k {}, an earlier one {}",
                                          meta.top_k, meta_top_k_));
    if (sink_.started() && sink_.num_topk() != meta.top_k)
      return Status::BadInput(fmt::format("meta line says top_k {}, earlier rows have {}",
                                          meta.top_k, sink_.num_topk()));
    meta_top_k_ = meta.top_k;
  }
  if (meta.has_model && options_.model.empty() && !sink_.started()) sink_.set_model(meta.model);
  return Status::Ok();
}

Status JsonlImporter::CheckRoute() {
  for (const auto& [has, name] : {std::pair{row_.has_layer, &fields_.layer},
                                  std::pair{row_.has_ids, &fields_.ids},
                                  std::pair{row_.has_scores, &fields_.scores}}) {
    if (!has) return Status::BadInput(fmt::format("missing \"{}\"", *name));
  }
  const size_t k = row_.ids.size();
  if (k != row_.scores.size())
    return Status::BadInput(fmt::format("{} {} but {} {}", k, fields_.ids, row_.scores.size(),
                                        fields_.scores));
  if (meta_top_k_ != 0 && k != meta_top_k_)
    return Status::BadInput(fmt::format("{} {}, meta line says top_k {}", k, fields_.ids,
                                        meta_top_k_));
  if (sink_.started() && k != sink_.num_topk())
    return Status::BadInput(fmt::format("{} {}, earlier lines have {}", k, fields_.ids,
                                        sink_.num_topk()));
  return Status::Ok();
}

Status JsonlImporter::AddRoute() {
  EPSIM_RETURN_IF_ERROR(CheckRoute());
  FileRows& file = files_.back();
  if (file.layers.size() < 2) file.layers.insert(row_.layer);
  if (shape_->rule == TokenRule::kStepPosition) TrackStep(row_.layer);
  if (sink_.Skip(row_.layer)) return Status::Ok();
  ++file.kept_rows;
  EPSIM_ASSIGN_OR_RETURN(const uint64_t sequence, SequenceOf());
  uint64_t token = 0;
  if (shape_->rule == TokenRule::kStepPosition) {
    EPSIM_ASSIGN_OR_RETURN(token, StepToken());
  } else {
    EPSIM_ASSIGN_OR_RETURN(token, RequestToken(sequence));
  }
  return sink_.Add(row_.layer, token, sequence, row_.ids, row_.scores);
}

Result<uint64_t> JsonlImporter::SequenceOf() {
  if (!row_.has_sequence) return uint64_t{0};
  const SeqKind kind = row_.sequence_is_string ? SeqKind::kString : SeqKind::kInteger;
  if (shape_->rule == TokenRule::kStepPosition && kind == SeqKind::kString)
    return Status::BadInput(fmt::format("\"{}\" is \"{}\", expected an unsigned integer",
                                        fields_.sequence, row_.sequence_string));
  if (seq_kind_ == SeqKind::kUnknown) seq_kind_ = kind;
  if (kind != seq_kind_)
    return Status::BadInput(fmt::format(
        "\"{}\" is {} here but {} on earlier lines", fields_.sequence,
        kind == SeqKind::kString ? "a string" : "an integer",
        kind == SeqKind::kString ? "an integer" : "a string"));
  if (kind == SeqKind::kInteger) return row_.sequence;
  auto [it, inserted] = string_sequences_.try_emplace(row_.sequence_string,
                                                      string_sequences_.size());
  return it->second;
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

// mixtral: tokens are numbered by first appearance of (step, position);
// without a position field, a row's position is its order within the layer.
Result<uint64_t> JsonlImporter::StepToken() {
  uint64_t& layer_rows = step_layer_rows_[row_.layer];
  const uint64_t pos = row_.has_token ? row_.token : layer_rows;
  ++layer_rows;
  if (!step_seen_.emplace(row_.layer, pos).second)
    return Status::BadInput(fmt::format("layer {} {} {} repeated within one step", row_.layer,
                                        fields_.token, pos));
  auto [it, inserted] = step_tokens_.try_emplace(pos, next_token_);
  if (inserted) ++next_token_;
  return it->second;
}

// vllm: tokens are numbered by first appearance of (sequence, token); rows
// without a token field are tokens by their order within the layer.
Result<uint64_t> JsonlImporter::RequestToken(uint64_t sequence) {
  if (token_mode_ == TokenMode::kUnknown)
    token_mode_ = row_.has_token ? TokenMode::kKeyed : TokenMode::kByOrder;
  if (token_mode_ == TokenMode::kByOrder) {
    if (row_.has_token)
      return Status::BadInput(fmt::format(
          "\"{}\" given here but not on the first route row (tokens are taken by order)",
          fields_.token));
    return layer_order_[row_.layer]++;
  }
  if (!row_.has_token) return Status::BadInput(fmt::format("missing \"{}\"", fields_.token));
  auto [it, inserted] = request_tokens_.try_emplace({sequence, row_.token}, next_token_);
  if (inserted) ++next_token_;
  if (!inserted && sink_.HasRow(it->second, row_.layer))
    return Status::BadInput(fmt::format("layer {}: {} {} {} {} repeated", row_.layer,
                                        fields_.sequence, sequence, fields_.token, row_.token));
  return it->second;
}

// One file per layer (several inputs, each all rows of one distinct layer):
// rows are aligned by order, so every file must hold as many.
Status JsonlImporter::CheckOneFilePerLayer() const {
  if (files_.size() < 2 || shape_ == nullptr || shape_->rule != TokenRule::kRequestToken)
    return Status::Ok();
  std::set<uint32_t> layers;
  for (const FileRows& f : files_) {
    if (f.layers.size() != 1 || !layers.insert(*f.layers.begin()).second) return Status::Ok();
  }
  bool same = true;
  for (const FileRows& f : files_) same = same && f.kept_rows == files_.front().kept_rows;
  if (same) return Status::Ok();
  std::string counts;
  for (const FileRows& f : files_)
    counts += fmt::format("{}{} (layer {}): {}", counts.empty() ? "" : ", ", f.file,
                          *f.layers.begin(), f.kept_rows);
  return Status::BadInput(fmt::format(
      "one file per layer, but the files hold different numbers of route rows after "
      "--skip-rows {}: {}",
      options_.skip_rows, counts));
}

Result<ImportSummary> JsonlImporter::Finish() {
  EPSIM_RETURN_IF_ERROR(CheckOneFilePerLayer());
  return sink_.Finish();
}

}  // namespace

Result<ImportSummary> ImportJsonl(const ImportOptions& options) {
  JsonlImporter importer(options);
  for (const std::string& file : options.inputs) EPSIM_RETURN_IF_ERROR(importer.ImportFile(file));
  return importer.Finish();
}

}  // namespace epsim::trace
