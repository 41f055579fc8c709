// What every importer shares: the sink rows are written through (writer,
// skip_rows, layer sets, progress) and small parsing helpers.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <utility>

#include "sim/trace/import_internal.h"
#include "sim/trace/writer.h"

namespace epsim::trace {

namespace {

uint64_t TotalBytes(const std::vector<std::string>& inputs) {
  uint64_t total = 0;
  for (const std::string& input : inputs) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(input, ec);
    if (!ec) total += size;
  }
  return total;
}

}  // namespace

// ---- TokenLayerSets ----

uint32_t TokenLayerSets::LayerIndex(uint32_t layer) {
  if (have_last_layer_ && layer == last_layer_) return last_layer_index_;
  auto [it, inserted] = layer_index_.try_emplace(layer, static_cast<uint32_t>(layers_.size()));
  if (inserted) {
    layers_.push_back(layer);
    if (layers_.size() > size_t{words_} * 64) Widen();
  }
  have_last_layer_ = true;
  last_layer_ = layer;
  last_layer_index_ = it->second;
  return it->second;
}

// More than 64 * words_ layers: rare (once per 64 layers), so a plain copy.
void TokenLayerSets::Widen() {
  const uint32_t words = words_ * 2;
  const size_t tokens = bits_.size() / words_;
  std::vector<uint64_t> bits(tokens * words, 0);
  for (size_t t = 0; t < tokens; ++t)
    std::copy_n(bits_.begin() + t * words_, words_, bits.begin() + t * words);
  bits_ = std::move(bits);
  for (StepStats& s : steps_) {
    s.layers.resize(words, 0);
    s.first_token_layers.resize(words, 0);
    s.first_incomplete_layers.resize(words, 0);
  }
  words_ = words;
}

uint64_t TokenLayerSets::TokenIndex(uint64_t token) {
  if (dense_ids_) return token - base_;
  auto [it, inserted] = token_index_.try_emplace(token, token_ids_.size());
  if (inserted) token_ids_.push_back(token);
  return it->second;
}

TokenLayerSets::Insertion TokenLayerSets::Insert(uint64_t token, uint32_t layer,
                                                 uint64_t sequence, uint64_t* had) {
  const uint32_t l = LayerIndex(layer);
  const uint64_t t = TokenIndex(token);
  if (bits_.size() < (t + 1) * words_) bits_.resize((t + 1) * words_, 0);
  if (sequences_.size() <= t) sequences_.resize(t + 1, 0);
  uint64_t* row = bits_.data() + t * words_;
  uint64_t& word = row[l / 64];
  const uint64_t bit = uint64_t{1} << (l % 64);
  if (word & bit) return Insertion::kRepeated;
  const bool first = std::all_of(row, row + words_, [](uint64_t w) { return w == 0; });
  if (first) {
    sequences_[t] = sequence;
  } else if (sequences_[t] != sequence) {
    *had = sequences_[t];
    return Insertion::kOtherSequence;
  }
  word |= bit;
  return Insertion::kOk;
}

bool TokenLayerSets::Contains(uint64_t token, uint32_t layer) const {
  uint32_t index = 0;
  if (have_last_layer_ && layer == last_layer_) {
    index = last_layer_index_;
  } else {
    auto l = layer_index_.find(layer);
    if (l == layer_index_.end()) return false;
    index = l->second;
  }
  uint64_t t = token;
  if (dense_ids_) {
    if (token < base_) return false;  // an earlier step's
    t = token - base_;
  } else {
    auto it = token_index_.find(token);
    if (it == token_index_.end()) return false;
    t = it->second;
  }
  if (bits_.size() < (t + 1) * words_) return false;
  return (bits_[t * words_ + index / 64] >> (index % 64) & 1) != 0;
}

// Folds the current step's bits into a StepStats and clears them.
void TokenLayerSets::FoldStep() {
  StepStats s;
  s.layers.assign(words_, 0);
  const size_t tokens = bits_.size() / words_;
  for (size_t t = 0; t < tokens; ++t)
    for (uint32_t i = 0; i < words_; ++i) s.layers[i] |= bits_[t * words_ + i];
  const auto id_of = [&](size_t t) { return dense_ids_ ? base_ + t : token_ids_[t]; };
  for (size_t t = 0; t < tokens; ++t) {
    const uint64_t* w = bits_.data() + t * words_;
    bool any = false, all = true;
    for (uint32_t i = 0; i < words_; ++i) {
      any = any || w[i] != 0;
      if ((s.layers[i] & ~w[i]) != 0) all = false;
    }
    if (!any) continue;  // dense ids: an id never used
    if (s.tokens++ == 0) {
      s.first_token = id_of(t);
      s.first_token_layers.assign(w, w + words_);
    }
    if (!all && s.incomplete_within++ == 0) {
      s.first_incomplete = id_of(t);
      s.first_incomplete_layers.assign(w, w + words_);
    }
  }
  if (s.tokens > 0) steps_.push_back(std::move(s));
  bits_.clear();
  sequences_.clear();
  token_index_.clear();
  token_ids_.clear();
}

void TokenLayerSets::NewStep(uint64_t next_token) {
  FoldStep();
  base_ = next_token;
}

void TokenLayerSets::Summarize(ImportSummary* summary) {
  FoldStep();
  summary->num_layers = static_cast<uint32_t>(layers_.size());
  std::vector<uint64_t> all(words_, 0);
  for (const StepStats& s : steps_)
    for (uint32_t i = 0; i < words_; ++i) all[i] |= s.layers[i];
  // The lowest layer (by number, not index) that `have` lacks.
  const auto lowest_layer = [&](const std::vector<uint64_t>& have) {
    uint32_t best = 0;
    bool found = false;
    for (uint32_t index = 0; index < layers_.size(); ++index) {
      if ((have[index / 64] >> (index % 64) & 1) != 0) continue;
      if (!found || layers_[index] < best) best = layers_[index], found = true;
    }
    return best;
  };
  for (const StepStats& s : steps_) {
    summary->tokens += s.tokens;
    const bool step_has_all = s.layers == all;
    const uint64_t incomplete = step_has_all ? s.incomplete_within : s.tokens;
    if (incomplete == 0) continue;
    if (summary->incomplete_tokens == 0) {
      // The step's first incomplete token; when the step lacks a layer,
      // every token of it is incomplete and its first token is named.
      summary->first_incomplete_token = step_has_all ? s.first_incomplete : s.first_token;
      summary->first_missing_layer =
          lowest_layer(step_has_all ? s.first_incomplete_layers : s.first_token_layers);
    }
    summary->incomplete_tokens += incomplete;
  }
}

// ---- ImportSink ----

ImportSink::ImportSink(const ImportOptions& options, std::string format, bool dense_token_ids)
    : options_(options),
      format_(std::move(format)),
      num_experts_(options.num_experts),
      model_(options.model),
      layer_sets_(dense_token_ids),
      progress_(options.progress, TotalBytes(options.inputs)) {}

ImportSink::~ImportSink() { progress_.Finish(); }

bool ImportSink::Skip(uint32_t layer) {
  if (options_.skip_rows == 0) return false;
  // Layer numbers are small in practice: a flat count, a map beyond.
  uint64_t& seen = layer < 4096 ? (layer >= layer_rows_flat_.size()
                                       ? (layer_rows_flat_.resize(layer + 1, 0), layer_rows_flat_[layer])
                                       : layer_rows_flat_[layer])
                                : layer_rows_seen_[layer];
  if (seen >= options_.skip_rows) return false;
  ++seen;
  ++skipped_;
  return true;
}

Status ImportSink::Start(uint32_t num_topk) {
  if (num_experts_ == 0)
    return Status::Usage(
        "number of experts unknown: give a model or the number of experts (or a meta line "
        "with \"num_experts\")");
  ImportOptions header_options = options_;
  header_options.num_experts = num_experts_;
  header_options.model = model_;
  // The provenance names the format ("jsonl", not the shape: "jsonl/vllm").
  proto::TraceHeader header =
      MakeImportHeader(header_options, format_.substr(0, format_.find('/')), num_topk);
  header.set_scores_absent(scores_absent_);
  if (options_.skip_rows > 0)
    header.mutable_provenance()->set_description(
        fmt::format("first {} route rows of each layer skipped", options_.skip_rows));
  auto writer = TraceWriter::Create(options_.output, header);
  if (!writer.ok()) return writer.status();
  writer_ = std::move(writer).value();
  num_topk_ = num_topk;
  if (step_ > 0) EPSIM_RETURN_IF_ERROR(writer_->SetStep(step_));
  return Status::Ok();
}

Status ImportSink::NewStep(uint64_t next_token) {
  if (step_rows_ == 0) {  // an empty step (skipped rows only) is not a step
    layer_sets_.NewStep(next_token);
    return Status::Ok();
  }
  rows_per_step_.push_back(step_rows_);
  step_rows_ = 0;
  ++step_;
  layer_sets_.NewStep(next_token);
  if (writer_) return writer_->SetStep(step_);
  return Status::Ok();
}

Status ImportSink::Add(uint32_t layer, uint64_t token, uint64_t sequence, const uint32_t* ids,
                       const float* scores, size_t k) {
  if (!writer_) EPSIM_RETURN_IF_ERROR(Start(static_cast<uint32_t>(k)));
  if (k != num_topk_)
    return Status::BadInput(fmt::format("{} experts, earlier rows have {}", k, num_topk_));
  uint64_t had = 0;
  switch (layer_sets_.Insert(token, layer, sequence, &had)) {
    case TokenLayerSets::Insertion::kOk: break;
    case TokenLayerSets::Insertion::kRepeated:
      return Status::BadInput(fmt::format("layer {}: token {} already has a row", layer, token));
    case TokenLayerSets::Insertion::kOtherSequence:
      // A trace keeps one sequence per token (validate.h); the log disagrees.
      return Status::BadInput(fmt::format("layer {}: token {} is in sequence {} here but in "
                                          "sequence {} in an earlier layer",
                                          layer, token, sequence, had));
  }
  ++rows_;
  ++step_rows_;
  return writer_->Add(layer, token, sequence, ids, scores_absent_ ? nullptr : scores);
}

Result<ImportSummary> ImportSink::Finish() {
  progress_.Update(bytes_read_, rows_);
  progress_.Finish();
  if (!writer_)
    return Status::BadInput(skipped_ > 0 ? "no rows left after --skip-rows"
                                         : "no routing rows in the inputs");
  if (step_rows_ > 0) rows_per_step_.push_back(step_rows_);
  EPSIM_RETURN_IF_ERROR(writer_->Finish());
  ImportSummary summary;
  summary.format = format_;
  summary.rows = rows_;
  summary.skipped_rows = skipped_;
  summary.skip_rows_per_layer = options_.skip_rows;
  summary.bytes_read = bytes_read_;
  summary.scores_absent = scores_absent_;
  summary.steps = rows_per_step_.size();
  if (!rows_per_step_.empty()) {
    std::vector<uint64_t> sorted = rows_per_step_;
    std::sort(sorted.begin(), sorted.end());
    summary.min_step_rows = sorted.front();
    summary.max_step_rows = sorted.back();
    summary.median_step_rows = sorted[(sorted.size() - 1) / 2];
  }
  layer_sets_.Summarize(&summary);
  return summary;
}

// ---- helpers ----

proto::TraceHeader MakeImportHeader(const ImportOptions& options, const std::string& format,
                                    uint32_t num_topk) {
  proto::TraceHeader header;
  header.set_model(options.model);
  header.set_num_experts(options.num_experts);
  header.set_num_topk(num_topk);
  header.set_num_candidates(num_topk);
  proto::Provenance* provenance = header.mutable_provenance();
  provenance->set_source_format(format);
  for (const std::string& input : options.inputs) provenance->add_source_files(input);
  provenance->set_tool("epsim import");
  return header;
}

Status LineError(const std::string& file, uint64_t line, const std::string& what) {
  return Status::BadInput(fmt::format("{}:{}: {}", file, line, what));
}

void SplitFields(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields->push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
}


}  // namespace epsim::trace
