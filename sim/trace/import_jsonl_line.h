// One line of a JSON-lines routing log, parsed with simdjson (DOM API: it
// validates the whole line and dispatches at run time to the CPU's fastest
// kernel, about 0.2 us for a 250-byte line). Private to import_jsonl.cc.
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
};

// A parsed line: a meta line or a route row. Only the fields present are
// filled; the caller reports missing ones (it knows which it needs).
struct JsonlLine {
  bool is_meta = false;
  bool has_layer = false, has_ids = false, has_scores = false;
  bool has_token = false, has_sequence = false;
  uint32_t layer = 0;
  uint64_t token = 0;
  bool sequence_is_string = false;
  uint64_t sequence = 0;
  std::string sequence_string;
  std::vector<uint32_t> ids;
  std::vector<float> scores;
  // Meta lines.
  bool has_num_experts = false, has_top_k = false, has_model = false;
  uint64_t num_experts = 0, top_k = 0;
  std::string model;
  // Every key of the line, only when asked for (shape detection).
  std::vector<std::string> keys;
};

class JsonlLineParser {
 public:
  JsonlLineParser();
  ~JsonlLineParser();

  // Parses `line` with route fields named by `fields`. Grows the string's
  // capacity by simdjson's padding; its contents are unchanged. Errors carry
  // no location (the caller adds file:line).
  Status Parse(std::string& line, const JsonlFields& fields, bool collect_keys, JsonlLine* out);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_IMPORT_JSONL_LINE_H_
