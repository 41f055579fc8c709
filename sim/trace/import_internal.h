// Private to the importers: one entry point per source format, called by
// Import() (importer.cc) once the options are checked, and ImportSink, the
// part every format shares (import_common.cc): writer, skip_rows, per-token
// layer sets, progress and the summary.
#ifndef EPSIM_SIM_TRACE_IMPORT_INTERNAL_H_
#define EPSIM_SIM_TRACE_IMPORT_INTERNAL_H_

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/trace.pb.h"
#include "sim/trace/importer.h"
#include "sim/trace/progress.h"

namespace epsim::trace {

class TraceWriter;

// Each expects options checked: inputs readable; num_experts > 0 for CSV.
Result<ImportSummary> ImportJsonl(const ImportOptions& options);
Result<ImportSummary> ImportDenseCsv(const ImportOptions& options);
Result<ImportSummary> ImportPlainCsv(const ImportOptions& options);

// Header for an imported trace with num_candidates == num_topk.
proto::TraceHeader MakeImportHeader(const ImportOptions& options, const std::string& format,
                                    uint32_t num_topk);

// BadInput "file:line: what".
Status LineError(const std::string& file, uint64_t line, const std::string& what);

// Which layers each token has a row in, one forward step at a time: one
// bit per (token, layer) of the current step, layers numbered densely by
// first appearance. Token ids are used as indices (less the step's first
// id) when `dense_ids` (the JSONL importers number tokens 0, 1, ... in
// order), else mapped to indices by first appearance (CSV files carry
// arbitrary ids, and have one step). NewStep() folds the step into the
// totals and frees its bits, so memory grows with the tokens of one step.
class TokenLayerSets {
 public:
  explicit TokenLayerSets(bool dense_ids) : dense_ids_(dense_ids) {}

  // Records a row of `token` in `layer` with its sequence id: kRepeated
  // when the token already has a row in `layer`, kOtherSequence when an
  // earlier layer of the step gave it another sequence id (*had gets it;
  // nothing is recorded for either).
  enum class Insertion { kOk, kRepeated, kOtherSequence };
  Insertion Insert(uint64_t token, uint32_t layer, uint64_t sequence, uint64_t* had);
  bool Contains(uint64_t token, uint32_t layer) const;
  // Ends the current step; the next step's tokens start at `next_token`.
  void NewStep(uint64_t next_token);
  // Counts tokens and incomplete tokens into `summary`, against every layer
  // of the trace (a token of a step without some layer lacks it).
  void Summarize(ImportSummary* summary);

 private:
  // What a finished step leaves for Summarize.
  struct StepStats {
    uint64_t tokens = 0;
    std::vector<uint64_t> layers;       // layer-index bits seen in the step
    uint64_t incomplete_within = 0;     // tokens lacking a layer of the step
    uint64_t first_incomplete = 0;      // token id, when incomplete_within > 0
    std::vector<uint64_t> first_incomplete_layers;  // and its layer-index bits
    uint64_t first_token = 0;           // and the step's first token with its bits
    std::vector<uint64_t> first_token_layers;
  };
  uint32_t LayerIndex(uint32_t layer);
  uint64_t TokenIndex(uint64_t token);
  void Widen();
  void FoldStep();

  const bool dense_ids_;
  std::unordered_map<uint32_t, uint32_t> layer_index_;
  std::vector<uint32_t> layers_;                       // by index
  std::unordered_map<uint64_t, uint64_t> token_index_; // !dense_ids_ only
  std::vector<uint64_t> token_ids_;                    // by index, !dense_ids_ only
  uint64_t base_ = 0;                                  // dense ids: the step's first id
  uint32_t words_ = 1;                                 // 64-bit words per token
  std::vector<uint64_t> bits_;                         // [token index * words_ + layer index / 64]
  std::vector<uint64_t> sequences_;                    // by token index: its sequence id
  std::vector<StepStats> steps_;
  uint32_t last_layer_ = 0, last_layer_index_ = 0;
  bool have_last_layer_ = false;
};

// The writing end of every importer. Rows go through Skip() then Add(); the
// writer is created at the first Add(), which fixes num_topk.
class ImportSink {
 public:
  ImportSink(const ImportOptions& options, std::string format, bool dense_token_ids);
  ~ImportSink();  // ends the progress line, removes an unfinished output

  // Before the first Add(): values a JSONL meta line may supply.
  uint32_t num_experts() const { return num_experts_; }
  void set_num_experts(uint32_t n) { num_experts_ = n; }
  void set_model(const std::string& model) { model_ = model; }
  void set_format(const std::string& format) { format_ = format; }
  // Before the first Add(): the log has expert ids only.
  void set_scores_absent(bool absent) { scores_absent_ = absent; }
  bool scores_absent() const { return scores_absent_; }
  bool started() const { return writer_ != nullptr; }
  uint32_t num_topk() const { return num_topk_; }

  // Counts a route row of `layer`; true when it is one of the layer's first
  // skip_rows, to be dropped.
  bool Skip(uint32_t layer);
  // Whether `token` already has a row in `layer` (in the current step).
  bool HasRow(uint64_t token, uint32_t layer) const { return layer_sets_.Contains(token, layer); }
  // Starts the next forward step; its tokens have ids from `next_token` on.
  Status NewStep(uint64_t next_token);
  uint64_t step() const { return step_; }
  // Writes one row of k ids and (unless scores are absent) k scores.
  Status Add(uint32_t layer, uint64_t token, uint64_t sequence, const uint32_t* ids,
             const float* scores, size_t k);
  // `bytes` more input bytes (lines with their newlines) were read.
  void CountBytes(uint64_t bytes) {
    bytes_read_ += bytes;
    progress_.Update(bytes_read_, rows_);
  }
  // One input line of `bytes` (with its newline) was read (CSV importers).
  void CountLine(uint64_t bytes) {
    bytes_read_ += bytes;
    if ((++lines_ & 255) == 0) progress_.Update(bytes_read_, rows_);
  }
  Result<ImportSummary> Finish();

 private:
  Status Start(uint32_t num_topk);

  const ImportOptions& options_;
  std::string format_;
  uint32_t num_experts_;
  std::string model_;
  bool scores_absent_ = false;
  std::unique_ptr<TraceWriter> writer_;
  uint32_t num_topk_ = 0;
  TokenLayerSets layer_sets_;
  std::vector<uint64_t> layer_rows_flat_;                   // for skip_rows, layers < 4096
  std::unordered_map<uint32_t, uint64_t> layer_rows_seen_;  // for skip_rows, the rest
  uint64_t rows_ = 0;
  uint64_t step_ = 0;
  uint64_t step_rows_ = 0;
  std::vector<uint64_t> rows_per_step_;  // finished steps with rows
  uint64_t skipped_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t lines_ = 0;
  ProgressMeter progress_;
};

// CSV: splits a line at commas (a trailing '\r' dropped); views into `line`.
void SplitFields(std::string_view line, std::vector<std::string_view>* fields);

// Parses a whole CSV field as a number; "field N is 'x', not a number".
template <typename T>
Status ParseNumber(std::string_view field, size_t column, T* out) {
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), *out);
  if (field.empty() || ec != std::errc() || ptr != field.data() + field.size())
    return Status::BadInput(fmt::format("field {} is '{}', not a number", column + 1, field));
  return Status::Ok();
}


}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_IMPORT_INTERNAL_H_
