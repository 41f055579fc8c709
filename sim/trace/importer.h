// Import of routing logs recorded elsewhere into the trace format.
//
// Import() streams its inputs (files, "-" for standard input, either gzip
// or zstd compressed: log_input.h) into a TraceWriter. JSON lines are parsed
// in chunks on several threads and consumed in file order by one
// (import_jsonl.cc), so the output does not depend on the thread count.
// Memory holds the chunks in flight, the writer's per-layer pending records
// (<= 4096 tokens each) and the token tables of one forward step (a hash
// entry and one bit per layer for each of its tokens), never the file.
//
// The rules, in prose, are FORMATS.md's "Imported formats"; in short:
//
// jsonl: one JSON object a line: a route row (one token of one layer), a
//   request row ({"routed_experts": [tokens][layers][k], "request_id"?}),
//   or, when its "type" is "meta", model metadata. Shapes:
//     mixtral: {"layer", "experts", "gating_probs"?, "token_pos"?, "problem_id"?}
//     vllm:    {"type": "route", "req_id", "token_idx", "layer", "topk_ids",
//               "topk_weights"?}, after an optional {"type": "meta", ...}
//     routed:  {"request_id"?, "routed_experts": [[[id...]...]...]} (ids only;
//               a layer of -1s is dense and skipped)
//   picked by the first route row's fields (or jsonl_shape); the --*-field
//   options rename fields. Scores are optional: the first route row decides
//   for the whole log (ImportSummary::scores_absent).
//   Forward steps: mixtral, when the layer number goes down; vllm, when a
//     (sequence, token) pair that already has a row in the layer comes
//     again (per-batch loggers restart token_idx with every batch), or an
//     error with repeats "error". Tokens are (step, sequence, token) and
//     (step, position); ids count first appearances. Without a token field
//     (vllm), row i of a layer is token i (one file per layer; every file
//     must then hold the same number of rows).
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
// With format "auto", .jsonl/.json/.ndjson files are jsonl and .csv files
// are dense-csv or plain-csv by the first column of the first file's header
// (layer_id or layer), .gz/.zst suffixes looked through; "-" is jsonl.
//
// skip_rows N drops the first N route rows of each layer, wherever that
// layer's rows are (warm-up or profiling rows some servers log). Dropped rows
// must still be well-formed lines with a layer; they get no token id and do
// not count as rows of the trace.
//
// A token keeps one sequence id in all its layers of a step (a trace's
// invariant, validate.h): a row giving it another (a mixtral problem_id that
// changes, a plain-csv sequence column that disagrees) is an error naming
// both. Layer ids are below kMaxTraceLayers (4096).
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
  std::string jsonl_shape = "auto"; // "auto", "mixtral", "vllm" or "routed"
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
  std::string format;               // "jsonl/mixtral", "jsonl/vllm", "jsonl/routed", "dense-csv", "plain-csv"
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
