// Import of routing logs recorded elsewhere into the trace format.
//
// Import() streams its inputs line by line into a TraceWriter: memory holds
// one line, the writer's per-layer pending records (<= 4096 tokens each) and
// the token tables below, never the file. The token tables grow with the
// number of distinct tokens (a hash entry per token and one bit per token and
// layer): about 70 bytes a token, 44 MB for 627,000 tokens.
//
// Formats (FORMATS.md, "Imported formats", has the same rules in prose):
//
// jsonl: one JSON object a line. Each line is a route row (one token of one
//   layer) or, when its "type" is "meta", model metadata; a "type" other
//   than "route" or "meta" is an error. Blank lines are ignored. Two shapes
//   are known, told apart by the field names of the first route row:
//     mixtral: {"layer", "experts", "gating_probs", "token_pos"?, "problem_id"?}
//     vllm:    {"type": "route", "req_id", "token_idx", "layer", "topk_ids",
//               "topk_weights"}, after an optional {"type": "meta",
//               "model"?, "num_experts"?, "top_k"?, ...}
//   The --*-field options rename fields in either shape. Detection: a shape
//   whose (renamed) layer, ids and scores fields the row all has beats one
//   missing any; then the shape with more of its fields present wins (vllm
//   counts "type"); a tie goes to mixtral; a row with none of either
//   shape's fields is an error. `jsonl_shape` forces one.
//   Token identity, mixtral: a forward step starts whenever the layer number
//     goes down from one route row to the next (prefill logs every layer for
//     the batch, then each decode step logs the layers again); a token is
//     (step, token field), or (step, order within the layer) without the
//     field; ids count first appearances. The sequence field must be an
//     unsigned integer and becomes the sequence id (0 without it).
//   Token identity, vllm: a token is (sequence, token field), ids counting
//     first appearances; without a token field, row i of a layer is token i
//     (that is how one-file-per-layer logs are aligned). The sequence field
//     ("req_id") is the sequence id when an unsigned integer; string ids are
//     numbered by first appearance (a log must not mix the two kinds). When
//     each of several inputs holds the rows of one layer (one file per
//     layer), every file must hold the same number of route rows after
//     skip_rows, or the import fails naming the files and counts.
//   Meta lines: "num_experts" is used when the options give none and must
//     equal them otherwise; "top_k" must equal every row's top-k; "model"
//     names the trace when the options give none; other keys are ignored.
// dense-csv: one file per layer, the layer being the last number in the file
//   name (layer7.csv -> 7); header "layer_id,token_id,expert_0..expert_{E-1}";
//   the selected experts of a row are its non-zero entries by descending
//   probability, ties by expert id; every row must have the same count,
//   which becomes num_topk. token_id is kept; sequence ids are 0.
// plain-csv: header "layer,token[,sequence],expert_0..expert_{k-1},
//   score_0..score_{k-1}" (k from the header); any number of files, rows of
//   any layers in any order; token ids and sequence ids are kept as given;
//   experts are in router order as given.
//
// With format "auto", .jsonl/.json files are jsonl and .csv files are
// dense-csv or plain-csv by the first column of the first file's header
// (layer_id or layer).
//
// skip_rows N drops the first N route rows of each layer, wherever that
// layer's rows are (warm-up or profiling rows some servers log). Dropped rows
// must still be well-formed lines with a layer; they get no token id and do
// not count as rows of the trace.
//
// Any malformed line, missing field or expert id out of range is an error
// "file:line: what" (BadInput), and no output file is left behind. A token
// missing from some of the trace's layers is not an error: ImportSummary
// counts such tokens, and token ids stay exact so nothing is mixed up.
#ifndef EPSIM_SIM_TRACE_IMPORTER_H_
#define EPSIM_SIM_TRACE_IMPORTER_H_

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::trace {

struct ImportOptions {
  std::vector<std::string> inputs;  // files as given on the command line
  std::string output;               // trace to write
  std::string model;                // model name for the header ("" = unknown)
  uint32_t num_experts = 0;         // 0 = from a jsonl meta line (required otherwise)
  std::string format = "auto";      // "auto", "jsonl", "dense-csv" or "plain-csv"
  std::string jsonl_shape = "auto"; // "auto", "mixtral" or "vllm"
  // JSONL field names; "" = the shape's own (see above).
  std::string layer_field;
  std::string ids_field;
  std::string scores_field;
  std::string token_field;
  std::string sequence_field;
  uint64_t skip_rows = 0;           // route rows dropped at the start of each layer
  // Where the progress bar goes (progress.h); nullptr = nowhere. The bar
  // appears only once the import has run for 2 s.
  std::ostream* progress = nullptr;
  // vllm shape: what a repeated (sequence, token) in a layer means: "step"
  // (a new forward step starts) or "error" (strict: reject the log).
  std::string repeats = "step";
  // JSONL: threads parsing lines (0 = one per core, at most 8); the output
  // is the same for any number.
  unsigned threads = 0;
  // JSONL: bytes handed to a parsing thread at a time (tests make it small).
  size_t chunk_bytes = size_t{4} << 20;
};

// What an import did, for the one-line reports of `epsim import`.
struct ImportSummary {
  std::string format;               // "jsonl/mixtral", "jsonl/vllm", "dense-csv", "plain-csv"
  uint64_t rows = 0;                // token rows written, all layers
  uint64_t tokens = 0;              // distinct token ids
  uint32_t num_layers = 0;
  uint64_t skipped_rows = 0;        // route rows dropped by skip_rows
  uint64_t skip_rows_per_layer = 0; // the option, for reports
  // Tokens absent from at least one of the trace's layers, and the first of
  // them (lowest token id, or first seen for CSV) with its first missing layer.
  uint64_t incomplete_tokens = 0;
  uint64_t first_incomplete_token = 0;
  uint32_t first_missing_layer = 0;
  uint64_t bytes_read = 0;          // input bytes (decompressed)
  bool scores_absent = false;       // the log had expert ids only
  // Forward steps with rows, and route rows per step (lower median).
  uint64_t steps = 0;
  uint64_t min_step_rows = 0, median_step_rows = 0, max_step_rows = 0;
  unsigned threads = 1;             // parsing threads used
};

// Converts `inputs` to one trace at `output` (rules above).
Result<ImportSummary> Import(const ImportOptions& options);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_IMPORTER_H_
