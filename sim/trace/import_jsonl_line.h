// One line of a JSON-lines routing log. Private to import_jsonl.cc. One
// parser per thread.
//
// Two readers, one result. A usual route line (an object whose keys and
// string values are printable ASCII without escapes, whose numbers are plain
// JSON numbers, and whose route fields each appear once) is read by a strict
// scanner of that subset of JSON in one pass. Every other line, and every
// line the scanner is unsure of, goes to simdjson (DOM API: it validates the
// whole line and dispatches at run time to the CPU's fastest kernel), which
// also words every error. The scanner accepts only lines simdjson accepts,
// with the same values (numbers are correctly rounded by both): a test holds
// the two to that on random and mutated lines.
//
// A route row's arrays (expert ids, scores, a string sequence id) are
// appended straight to the caller's JsonlArrays (a chunk's), and the row
// keeps offsets into them: nothing is copied twice.
#ifndef EPSIM_SIM_TRACE_IMPORT_JSONL_LINE_H_
#define EPSIM_SIM_TRACE_IMPORT_JSONL_LINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/status.h"

namespace epsim::trace {

// Field names of a route row in one log.
struct JsonlFields {
  std::string layer;
  std::string ids;
  std::string scores;
  std::string token;
  std::string sequence;
  // Routed-experts shape only: the [tokens][layers][k] id array of a request.
  std::string routed;
};

// Expert id of a routed-experts slot that holds no expert (-1: a layer
// without routed experts).
inline constexpr uint32_t kNoExpert = 0xffffffffu;

// Where the arrays of a chunk's rows live.
struct JsonlArrays {
  std::vector<uint32_t> ids;
  std::vector<float> scores;
  std::string strings;  // string sequence ids, back to back

  void clear() {
    ids.clear();
    scores.clear();
    strings.clear();
  }
};

// A parsed route row (or a meta line's place in the chunk). Only the fields
// present are filled; the caller reports missing ones (it knows which it
// needs).
struct JsonlRow {
  uint64_t line = 0;  // within the chunk, 1-based (set by the caller)
  uint32_t layer = 0;
  uint32_t num_ids = 0, num_scores = 0;
  uint64_t token = 0;
  uint64_t sequence = 0;  // integer id, or offset into JsonlArrays::strings
  uint32_t sequence_bytes = 0;
  uint64_t ids_at = 0, scores_at = 0;
  uint32_t meta = 0;  // meta lines: index into the caller's list (set by the caller)
  // Routed-experts shape: ids holds tokens x layers x k entries.
  uint32_t routed_tokens = 0, routed_layers = 0, routed_k = 0;
  bool is_meta = false, has_layer = false, has_ids = false, has_scores = false;
  bool has_token = false, has_sequence = false, sequence_is_string = false;
  bool has_routed = false;
};

// What a meta line says.
struct JsonlMeta {
  bool has_num_experts = false, has_top_k = false, has_model = false;
  uint64_t num_experts = 0, top_k = 0;
  std::string model;
};

class JsonlLineParser {
 public:
  // `scan`: try the scanner first (the default; false: simdjson for every
  // line, for the test that compares the two).
  explicit JsonlLineParser(bool scan = true);
  ~JsonlLineParser();

  // Parses the `size` bytes at `data` (readable for simdjson's padding, 64
  // bytes, past the end) with route fields named by `fields` (the same
  // object from call to call: its names are indexed on first use). A route
  // row fills `row` and appends to `arrays`; a meta line sets row->is_meta
  // and fills `meta`. With `keys` given, every key of the line is stored
  // there (shape detection). Errors carry no location (the caller adds
  // file:line); `arrays` may then hold a partial row's entries.
  Status Parse(const char* data, size_t size, const JsonlFields& fields, JsonlRow* row,
               JsonlMeta* meta, JsonlArrays* arrays, std::vector<std::string>* keys);

  // Lines the scanner read (the rest went to simdjson).
  uint64_t scanned() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The scanner's number reader on its own, for the test that holds it to
// simdjson's doubles: true and the correctly rounded value if all `size`
// bytes at `data` (readable 64 bytes past the end) are one JSON number in
// the scanner's subset.
bool ScanJsonNumber(const char* data, size_t size, double* out);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_IMPORT_JSONL_LINE_H_
