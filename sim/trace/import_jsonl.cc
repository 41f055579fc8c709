// JSON-lines routing logs (one object per token and layer, one per request
// with its routed experts, optional meta lines) -> trace.
//
// Each input is read as chunks of whole lines (log_input.h: views of a
// memory map for a plain file, decoded buffers for stdin and compressed
// logs). Parsing is the expensive part and needs no state, so worker threads
// parse chunks into compact rows (ParsedChunk) in parallel, at most
// kChunksInFlight per thread ahead; the calling thread takes the parsed
// chunks in file order and does everything that depends on order: shapes,
// meta lines, forward steps, token numbering, skip_rows and the writer. The
// output is therefore the same for any number of threads. Memory: the chunks
// in flight, the writer's pending records and the token tables (importer.h).
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/trace/import_internal.h"
#include "sim/trace/import_jsonl_line.h"
#include "sim/trace/log_input.h"

namespace epsim::trace {

namespace {

// How a route row names its token (importer.h has the rules).
enum class TokenRule { kStepPosition, kRequestToken, kRouted };

struct JsonlShape {
  const char* name;
  JsonlFields fields;
  TokenRule rule;
  bool has_type;  // rows carry "type": "route"
};

const JsonlShape kMixtral = {"mixtral",
                             {"layer", "experts", "gating_probs", "token_pos", "problem_id", ""},
                             TokenRule::kStepPosition,
                             false};
const JsonlShape kVllm = {"vllm",
                          {"layer", "topk_ids", "topk_weights", "token_idx", "req_id", ""},
                          TokenRule::kRequestToken,
                          true};
const JsonlShape kRouted = {"routed",
                            {"", "", "", "", "request_id", "routed_experts"},
                            TokenRule::kRouted,
                            false};

JsonlFields Resolve(const JsonlShape& shape, const ImportOptions& o) {
  JsonlFields f = shape.fields;
  if (!o.layer_field.empty()) f.layer = o.layer_field;
  // --ids-field renames the routed-experts array only when that shape is forced.
  if (!o.ids_field.empty()) {
    if (shape.rule != TokenRule::kRouted) f.ids = o.ids_field;
    else if (o.jsonl_shape == "routed") f.routed = o.ids_field;
  }
  if (!o.scores_field.empty()) f.scores = o.scores_field;
  if (!o.token_field.empty()) f.token = o.token_field;
  if (!o.sequence_field.empty()) f.sequence = o.sequence_field;
  return f;
}

bool HasKey(const std::vector<std::string>& keys, const std::string& k) {
  return !k.empty() && std::find(keys.begin(), keys.end(), k) != keys.end();
}

// How well a route row's keys fit a shape: a row with the shape's (renamed)
// layer and ids fields beats one without; then the more of its fields the
// row has (scores included), the better. 0 when the row has none of them.
int MatchScore(const JsonlShape& shape, const ImportOptions& options,
               const std::vector<std::string>& keys) {
  const JsonlFields f = Resolve(shape, options);
  const auto has = [&keys](const std::string& k) { return HasKey(keys, k) ? 1 : 0; };
  if (shape.rule == TokenRule::kRouted) return has(f.routed) ? 100 + has(f.sequence) : 0;
  const int required = has(f.layer) + has(f.ids);
  const int present = required + has(f.scores) + has(f.token) + has(f.sequence) +
                      (shape.has_type && has("type"));
  return present == 0 ? 0 : (required == 2 ? 10 : 0) + present;
}

// A row that fits neither shape fully still picks the closer one, so that
// the error names the missing field.
Result<const JsonlShape*> DetectShape(const ImportOptions& options,
                                      const std::vector<std::string>& keys) {
  if (options.jsonl_shape == "mixtral") return &kMixtral;
  if (options.jsonl_shape == "vllm") return &kVllm;
  if (options.jsonl_shape == "routed") return &kRouted;
  const int routed = MatchScore(kRouted, options, keys);
  if (routed > 0) return &kRouted;
  const int mixtral = MatchScore(kMixtral, options, keys);
  const int vllm = MatchScore(kVllm, options, keys);
  if (mixtral > 0 && mixtral >= vllm) return &kMixtral;
  if (vllm > 0) return &kVllm;
  std::string names;
  for (const std::string& k : keys) names += (names.empty() ? "" : ", ") + k;
  return Status::BadInput(fmt::format(
      "cannot tell the log's shape from its fields ({}): expected mixtral's layer, experts, "
      "gating_probs, vllm's layer, topk_ids, topk_weights, or a request's routed_experts; "
      "name the fields with --layer-field, --ids-field and --scores-field",
      names));
}

// ---- parsing (worker threads) ----

using ParsedRow = JsonlRow;

struct ParsedChunk {
  std::vector<ParsedRow> rows;
  JsonlArrays arrays;
  std::vector<JsonlMeta> metas;
  uint64_t lines = 0;  // lines of the chunk, blank ones included
  uint64_t bytes = 0;
  // The first malformed line: rows before it are good.
  bool failed = false;
  uint64_t error_line = 0;
  Status error;
  // Shape detection: keys of the first route row, when asked for.
  std::vector<std::string> first_keys;
  bool has_first_keys = false;
  uint64_t first_route_line = 0;

  void Clear() {
    rows.clear();
    arrays.clear();
    metas.clear();
    lines = bytes = 0;
    failed = has_first_keys = false;
    error_line = first_route_line = 0;
    error = Status::Ok();
    first_keys.clear();
  }
};

// Parses every line of `text` into `out`. With `fields` null (the shape is
// not known yet), parsing stops at the first route row and records its keys.
void ParseChunk(std::string_view text, const JsonlFields* fields, JsonlLineParser& parser,
                JsonlMeta& meta, ParsedChunk* out) {
  out->Clear();
  out->bytes = text.size();
  static const JsonlFields kNoFields;
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  for (const char* p = begin; p < end;) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) nl = end;
    const char* line = p;
    const size_t size = static_cast<size_t>(nl - p);
    p = nl + 1;
    ++out->lines;
    size_t lead = 0;  // a blank line is skipped
    while (lead < size && (line[lead] == ' ' || line[lead] == '\t' || line[lead] == '\r')) ++lead;
    if (lead == size) continue;
    ParsedRow& r = out->rows.emplace_back();  // Parse fills it from scratch
    Status st = parser.Parse(line, size, fields ? *fields : kNoFields, &r, &meta, &out->arrays,
                             fields == nullptr ? &out->first_keys : nullptr);
    if (!st.ok()) {
      out->rows.pop_back();
      out->failed = true;
      out->error_line = out->lines;
      out->error = std::move(st);
      return;
    }
    if (fields == nullptr && !r.is_meta) {
      out->rows.pop_back();
      out->has_first_keys = true;
      out->first_route_line = out->lines;
      return;
    }
    r.line = out->lines;
    if (r.is_meta) {
      r.meta = static_cast<uint32_t>(out->metas.size());
      out->metas.push_back(meta);
    }
  }
}

// Route rows each input holds, for the one-file-per-layer check.
struct FileRows {
  std::string file;
  std::set<uint32_t> layers;  // stops growing past 2: only "one or more" matters
  uint64_t kept_rows = 0;
};

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    return std::hash<uint64_t>()(p.first * 0x9e3779b97f4a7c15ULL ^ p.second);
  }
};

// ---- the importer (calling thread) ----

class JsonlImporter {
 public:
  explicit JsonlImporter(const ImportOptions& options)
      : options_(options), sink_(options, "jsonl", /*dense_token_ids=*/true) {}

  Status ImportFile(const std::string& file);
  Result<ImportSummary> Finish();
  unsigned threads_used() const { return threads_used_; }

 private:
  // Takes one parsed chunk, in file order; `line0` is the line number
  // before its first line.
  Status Consume(const ParsedChunk& chunk, uint64_t line0);
  Status ApplyMeta(const JsonlMeta& meta);
  Status ChooseShape(const std::vector<std::string>& keys);
  Status AddRoute(const ParsedChunk& chunk, const ParsedRow& row);
  Status AddRouted(const ParsedChunk& chunk, const ParsedRow& row);
  Status CheckRoute(const ParsedRow& row);
  Result<uint64_t> SequenceOf(const ParsedChunk& chunk, const ParsedRow& row);
  Result<uint64_t> StepToken(const ParsedRow& row);
  Result<uint64_t> RequestToken(const ParsedRow& row, uint64_t sequence);
  Status NewStep();
  Status CheckOneFilePerLayer() const;
  // Reads, parses and consumes chunks in this thread; with
  // `until_shape`, stops once the shape is known.
  Status Sequential(LogInput& input, bool until_shape, uint64_t* line0, bool* at_end);
  Status Parallel(LogInput& input, unsigned threads, uint64_t* line0);

  const ImportOptions& options_;
  ImportSink sink_;
  JsonlLineParser parser_;  // the calling thread's
  JsonlMeta meta_;
  const JsonlShape* shape_ = nullptr;  // fixed by the first route row
  JsonlFields fields_;
  std::string file_;
  std::vector<FileRows> files_;
  uint64_t meta_top_k_ = 0;  // 0 = not given
  uint64_t next_token_ = 0;
  bool scores_known_ = false;  // the first route row told whether scores come
  unsigned threads_used_ = 1;
  // Sequence ids: strings numbered by first appearance; kinds must not mix.
  enum class SeqKind { kUnknown, kInteger, kString } seq_kind_ = SeqKind::kUnknown;
  std::unordered_map<std::string, uint64_t> string_sequences_;
  std::string key_;  // reused lookup key
  std::string last_sequence_text_;
  uint64_t last_sequence_ = 0;
  bool have_last_sequence_ = false;
  uint64_t requests_ = 0;  // routed shape: request lines so far
  // vllm rule: (sequence, token) -> token id within the current step, or
  // rows kept per layer when the rows have no token field.
  enum class TokenMode { kUnknown, kKeyed, kByOrder } token_mode_ = TokenMode::kUnknown;
  std::unordered_map<std::pair<uint64_t, uint64_t>, uint64_t, PairHash> request_tokens_;
  // The step's pairs in first-appearance order, and where the current
  // layer's rows are expected to continue in it.
  struct OrderedToken {
    uint64_t sequence, token, id;
  };
  std::vector<OrderedToken> step_order_;
  size_t order_next_ = 0;
  uint32_t order_layer_ = 0;
  std::unordered_map<uint32_t, uint64_t> layer_order_;
  // mixtral rule, the current forward step only: position -> token id, rows
  // per layer (the default position).
  bool have_prev_ = false;
  uint32_t prev_layer_ = 0;
  std::unordered_map<uint64_t, uint64_t> step_tokens_;
  std::unordered_map<uint32_t, uint64_t> step_layer_rows_;
  uint32_t last_file_layer_ = 0;
  bool have_file_layer_ = false;
  uint64_t used_lines_ = 0;  // non-blank lines of the current file
};

Status JsonlImporter::ImportFile(const std::string& file) {
  EPSIM_ASSIGN_OR_RETURN(auto input, LogInput::Open(file));
  file_ = input->name();
  files_.push_back({file_, {}, 0});
  have_file_layer_ = false;
  used_lines_ = 0;
  unsigned threads = options_.threads;
  if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  uint64_t line0 = 0;
  bool at_end = false;
  EPSIM_RETURN_IF_ERROR(Sequential(*input, /*until_shape=*/threads >= 2, &line0, &at_end));
  if (!at_end) {
    threads_used_ = std::max(threads_used_, threads);
    EPSIM_RETURN_IF_ERROR(Parallel(*input, threads, &line0));
  }
  if (used_lines_ == 0) {
    if (sink_.num_experts() == 0)
      return Status::Usage(
          "import: number of experts unknown: give a model or the number of experts");
    return LineError(file_, 1, "empty file (no routing lines)");
  }
  return Status::Ok();
}

Status JsonlImporter::Sequential(LogInput& input, bool until_shape, uint64_t* line0,
                                 bool* at_end) {
  LogChunk chunk;
  ParsedChunk parsed;
  while (!(until_shape && shape_ != nullptr)) {
    EPSIM_ASSIGN_OR_RETURN(bool more, input.NextChunk(options_.chunk_bytes, &chunk));
    if (!more) {
      *at_end = true;
      return Status::Ok();
    }
    if (shape_ == nullptr) {
      ParseChunk(chunk.text, nullptr, parser_, meta_, &parsed);
      if (parsed.has_first_keys) {
        Status st = ChooseShape(parsed.first_keys);
        if (!st.ok()) return st.WithContext(fmt::format("{}:{}", file_, *line0 + parsed.first_route_line));
      }
    }
    if (shape_ != nullptr) ParseChunk(chunk.text, &fields_, parser_, meta_, &parsed);
    EPSIM_RETURN_IF_ERROR(Consume(parsed, *line0));
    *line0 += parsed.lines;
  }
  return Status::Ok();
}

// Threads take chunks in order under the lock (reading a mapped file is
// computing a range; decoding a stream is sequential anyway), parse them
// outside it, and mark them ready; this thread consumes them in order, and
// parses ahead itself whenever the chunk it needs next is not ready.
Status JsonlImporter::Parallel(LogInput& input, unsigned threads, uint64_t* line0) {
  struct Slot {
    LogChunk chunk;
    ParsedChunk parsed;
    bool ready = false;
  };
  const size_t depth = size_t{threads} * 2 + 2;
  std::vector<Slot> slots(depth);
  std::mutex mu;
  std::condition_variable cv;
  uint64_t next_read = 0, next_consume = 0;
  bool input_done = false, stop = false;
  Status input_error = Status::Ok();
  const JsonlFields fields = fields_;

  // Takes the next chunk and parses it; the lock is held on entry and exit.
  // False when the input is exhausted (or failed).
  auto parse_next = [&](std::unique_lock<std::mutex>& lock, JsonlLineParser& parser,
                        JsonlMeta& meta) {
    const uint64_t index = next_read;
    Slot& slot = slots[index % depth];
    Result<bool> more = input.NextChunk(options_.chunk_bytes, &slot.chunk);
    if (!more.ok() || !*more) {
      if (!more.ok()) input_error = more.status();
      input_done = true;
      cv.notify_all();
      return false;
    }
    ++next_read;
    lock.unlock();
    ParseChunk(slot.chunk.text, &fields, parser, meta, &slot.parsed);
    lock.lock();
    slot.ready = true;
    cv.notify_all();
    return true;
  };
  auto worker = [&]() {
    JsonlLineParser parser;
    JsonlMeta meta;
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stop || input_done || next_read - next_consume < depth; });
      if (stop || input_done || !parse_next(lock, parser, meta)) return;
    }
  };
  // This thread consumes, and parses too while its next chunk is not ready:
  // `threads` threads in all.
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(worker);

  Status status = Status::Ok();
  while (true) {
    std::unique_lock<std::mutex> lock(mu);
    Slot& slot = slots[next_consume % depth];
    while (!slot.ready && !(input_done && next_consume == next_read)) {
      if (!input_done && next_read - next_consume < depth)
        parse_next(lock, parser_, meta_);
      else
        cv.wait(lock);
    }
    if (!slot.ready) {
      status = input_error;
      break;
    }
    lock.unlock();
    status = Consume(slot.parsed, *line0);
    *line0 += slot.parsed.lines;
    lock.lock();
    slot.ready = false;
    ++next_consume;
    cv.notify_all();
    if (!status.ok()) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  for (std::thread& t : pool) t.join();
  return status;
}

Status JsonlImporter::Consume(const ParsedChunk& chunk, uint64_t line0) {
  sink_.CountBytes(chunk.bytes);
  for (const ParsedRow& row : chunk.rows) {
    ++used_lines_;
    Status st = row.is_meta ? ApplyMeta(chunk.metas[row.meta])
                : shape_->rule == TokenRule::kRouted ? AddRouted(chunk, row)
                                                       : AddRoute(chunk, row);
    if (!st.ok()) return st.WithContext(fmt::format("{}:{}", file_, line0 + row.line));
  }
  if (chunk.failed)
    return chunk.error.WithContext(fmt::format("{}:{}", file_, line0 + chunk.error_line));
  return Status::Ok();
}

Status JsonlImporter::ChooseShape(const std::vector<std::string>& keys) {
  EPSIM_ASSIGN_OR_RETURN(shape_, DetectShape(options_, keys));
  fields_ = Resolve(*shape_, options_);
  sink_.set_format(fmt::format("jsonl/{}", shape_->name));
  if (shape_->rule == TokenRule::kRouted) {
    sink_.set_scores_absent(true);
    scores_known_ = true;
  }
  return Status::Ok();
}

Status JsonlImporter::ApplyMeta(const JsonlMeta& meta) {
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

Status JsonlImporter::CheckRoute(const ParsedRow& row) {
  if (!row.has_layer) return Status::BadInput(fmt::format("missing \"{}\"", fields_.layer));
  if (!row.has_ids) return Status::BadInput(fmt::format("missing \"{}\"", fields_.ids));
  // The first route row tells whether the log has scores; every row follows.
  if (!scores_known_) {
    scores_known_ = true;
    sink_.set_scores_absent(!row.has_scores);
  }
  if (row.has_scores == sink_.scores_absent())
    return Status::BadInput(
        row.has_scores
            ? fmt::format("\"{}\" given here but not on the first route row (an ids-only log)",
                          fields_.scores)
            : fmt::format("missing \"{}\" (the first route row has scores)", fields_.scores));
  const size_t k = row.num_ids;
  if (row.has_scores && k != row.num_scores)
    return Status::BadInput(
        fmt::format("{} {} but {} {}", k, fields_.ids, row.num_scores, fields_.scores));
  if (meta_top_k_ != 0 && k != meta_top_k_)
    return Status::BadInput(fmt::format("{} {}, meta line says top_k {}", k, fields_.ids,
                                        meta_top_k_));
  if (sink_.started() && k != sink_.num_topk())
    return Status::BadInput(fmt::format("{} {}, earlier lines have {}", k, fields_.ids,
                                        sink_.num_topk()));
  return Status::Ok();
}

Status JsonlImporter::AddRoute(const ParsedChunk& chunk, const ParsedRow& row) {
  // Rows like the ones before (layer, ids, scores as the first row had
  // them, k as every row so far) pass without building a Status.
  const bool usual = row.has_layer && row.has_ids && scores_known_ && sink_.started() &&
                     row.has_scores != sink_.scores_absent() && row.num_ids == sink_.num_topk() &&
                     (!row.has_scores || row.num_scores == row.num_ids);
  if (!usual) EPSIM_RETURN_IF_ERROR(CheckRoute(row));
  FileRows& file = files_.back();
  if (!have_file_layer_ || row.layer != last_file_layer_) {
    if (file.layers.size() < 2) file.layers.insert(row.layer);
    have_file_layer_ = true;
    last_file_layer_ = row.layer;
  }
  // mixtral: a step starts when the layer goes down (prefill logs every
  // layer for the batch, then each decode step logs the layers again).
  if (shape_->rule == TokenRule::kStepPosition) {
    if (have_prev_ && row.layer < prev_layer_) EPSIM_RETURN_IF_ERROR(NewStep());
    have_prev_ = true;
    prev_layer_ = row.layer;
  }
  if (sink_.Skip(row.layer)) return Status::Ok();
  ++file.kept_rows;
  EPSIM_ASSIGN_OR_RETURN(const uint64_t sequence, SequenceOf(chunk, row));
  uint64_t token = 0;
  if (shape_->rule == TokenRule::kStepPosition) {
    EPSIM_ASSIGN_OR_RETURN(token, StepToken(row));
  } else {
    EPSIM_ASSIGN_OR_RETURN(token, RequestToken(row, sequence));
  }
  return sink_.Add(row.layer, token, sequence, chunk.arrays.ids.data() + row.ids_at,
                   row.has_scores ? chunk.arrays.scores.data() + row.scores_at : nullptr, row.num_ids);
}

// One request: tokens in order, each with its experts in every layer; a
// layer whose slots are all -1 has no routed experts (dense layers).
Status JsonlImporter::AddRouted(const ParsedChunk& chunk, const ParsedRow& row) {
  if (!row.has_routed) return Status::BadInput(fmt::format("missing \"{}\"", fields_.routed));
  const uint32_t layers = row.routed_layers;
  const uint32_t k = row.num_ids / (row.routed_tokens * layers);
  if (meta_top_k_ != 0 && k != meta_top_k_)
    return Status::BadInput(fmt::format("{} experts per layer, meta line says top_k {}", k,
                                        meta_top_k_));
  if (sink_.started() && k != sink_.num_topk())
    return Status::BadInput(
        fmt::format("{} experts per layer, earlier requests have {}", k, sink_.num_topk()));
  uint64_t sequence = requests_++;
  if (row.has_sequence) {
    EPSIM_ASSIGN_OR_RETURN(sequence, SequenceOf(chunk, row));
  }
  const uint32_t* ids = chunk.arrays.ids.data() + row.ids_at;
  for (uint32_t t = 0; t < row.routed_tokens; ++t) {
    const uint64_t token = next_token_++;
    for (uint32_t l = 0; l < layers; ++l) {
      const uint32_t* slot = ids + (size_t{t} * layers + l) * k;
      const size_t absent = std::count(slot, slot + k, kNoExpert);
      if (absent == k) continue;
      if (absent != 0)
        return Status::BadInput(
            fmt::format("token {} layer {}: -1 among expert ids (a layer has all or none)", t, l));
      if (sink_.Skip(l)) continue;
      Status st = sink_.Add(l, token, sequence, slot, nullptr, k);
      if (!st.ok()) return st.WithContext(fmt::format("token {} layer {}", t, l));
    }
  }
  return Status::Ok();
}

Result<uint64_t> JsonlImporter::SequenceOf(const ParsedChunk& chunk, const ParsedRow& row) {
  if (!row.has_sequence) return uint64_t{0};
  const SeqKind kind = row.sequence_is_string ? SeqKind::kString : SeqKind::kInteger;
  const std::string_view text =
      kind == SeqKind::kString
          ? std::string_view(chunk.arrays.strings).substr(row.sequence, row.sequence_bytes)
          : std::string_view();
  if (shape_->rule == TokenRule::kStepPosition && kind == SeqKind::kString)
    return Status::BadInput(
        fmt::format("\"{}\" is \"{}\", expected an unsigned integer", fields_.sequence, text));
  if (seq_kind_ == SeqKind::kUnknown) seq_kind_ = kind;
  if (kind != seq_kind_)
    return Status::BadInput(fmt::format(
        "\"{}\" is {} here but {} on earlier lines", fields_.sequence,
        kind == SeqKind::kString ? "a string" : "an integer",
        kind == SeqKind::kString ? "an integer" : "a string"));
  if (kind == SeqKind::kInteger) return row.sequence;
  // Consecutive rows mostly share their request.
  if (have_last_sequence_ && text == last_sequence_text_) return last_sequence_;
  key_.assign(text);
  auto it = string_sequences_.find(key_);
  if (it == string_sequences_.end())
    it = string_sequences_.emplace(key_, string_sequences_.size()).first;
  last_sequence_text_ = key_;
  last_sequence_ = it->second;
  have_last_sequence_ = true;
  return it->second;
}

Status JsonlImporter::NewStep() {
  EPSIM_RETURN_IF_ERROR(sink_.NewStep(next_token_));
  step_tokens_.clear();
  step_layer_rows_.clear();
  request_tokens_.clear();
  step_order_.clear();
  order_next_ = 0;
  return Status::Ok();
}

// mixtral: tokens are numbered by first appearance of (step, position);
// without a position field, a row's position is its order within the layer.
Result<uint64_t> JsonlImporter::StepToken(const ParsedRow& row) {
  uint64_t& layer_rows = step_layer_rows_[row.layer];
  const uint64_t pos = row.has_token ? row.token : layer_rows;
  ++layer_rows;
  auto [it, inserted] = step_tokens_.try_emplace(pos, next_token_);
  if (inserted) ++next_token_;
  if (!inserted && sink_.HasRow(it->second, row.layer))
    return Status::BadInput(fmt::format("layer {} {} {} repeated within one step", row.layer,
                                        fields_.token, pos));
  return it->second;
}

// vllm: within a forward step, tokens are numbered by first appearance of
// (sequence, token); a pair that already has a row in the layer starts the
// next step (the logger's token index restarts with every batch), or is an
// error with repeats "error". Rows without a token field are tokens by their
// order within the layer (one file per layer).
Result<uint64_t> JsonlImporter::RequestToken(const ParsedRow& row, uint64_t sequence) {
  if (token_mode_ == TokenMode::kUnknown)
    token_mode_ = row.has_token ? TokenMode::kKeyed : TokenMode::kByOrder;
  if (token_mode_ == TokenMode::kByOrder) {
    if (row.has_token)
      return Status::BadInput(fmt::format(
          "\"{}\" given here but not on the first route row (tokens are taken by order)",
          fields_.token));
    return layer_order_[row.layer]++;
  }
  if (!row.has_token) return Status::BadInput(fmt::format("missing \"{}\"", fields_.token));
  // Each layer of a step mostly lists the step's tokens in the order the
  // first layer did: try the next pair of that order before the map.
  if (row.layer != order_layer_) {
    order_layer_ = row.layer;
    order_next_ = 0;
  }
  uint64_t id = 0;
  if (order_next_ < step_order_.size() && step_order_[order_next_].sequence == sequence &&
      step_order_[order_next_].token == row.token) {
    id = step_order_[order_next_++].id;
  } else {
    auto [it, inserted] = request_tokens_.try_emplace({sequence, row.token}, next_token_);
    if (inserted) {
      step_order_.push_back({sequence, row.token, next_token_});
      order_next_ = step_order_.size();
      return next_token_++;
    }
    id = it->second;
  }
  if (!sink_.HasRow(id, row.layer)) return id;
  if (options_.repeats == "error")
    return Status::BadInput(fmt::format(
        "layer {}: {} {} {} {} repeated (--repeats error; without it a repeat starts the next "
        "forward step)",
        row.layer, fields_.sequence, sequence, fields_.token, row.token));
  EPSIM_RETURN_IF_ERROR(NewStep());
  const uint64_t token = next_token_++;
  request_tokens_.emplace(std::pair{sequence, row.token}, token);
  step_order_.push_back({sequence, row.token, token});
  order_layer_ = row.layer;
  order_next_ = step_order_.size();
  return token;
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
  EPSIM_ASSIGN_OR_RETURN(ImportSummary summary, sink_.Finish());
  summary.threads = threads_used_;
  return summary;
}

}  // namespace

Result<ImportSummary> ImportJsonl(const ImportOptions& options) {
  JsonlImporter importer(options);
  for (const std::string& file : options.inputs) EPSIM_RETURN_IF_ERROR(importer.ImportFile(file));
  return importer.Finish();
}

}  // namespace epsim::trace
