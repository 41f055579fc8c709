// One line of a JSON-lines routing log, parsed with simdjson (DOM API: it
// validates the whole line and dispatches at run time to the CPU's fastest
// kernel, about 0.2 us for a 250-byte line). Private to import_jsonl.cc.
// One parser per thread.
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
  // Routed-experts shape: ids holds tokens x layers x k entries.
  bool has_routed = false;
  uint32_t routed_tokens = 0, routed_layers = 0, routed_k = 0;
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

  // Parses the `size` bytes at `data` (readable for simdjson's padding, 64
  // bytes, past the end) with route fields named by `fields`. Errors carry
  // no location (the caller adds file:line).
  Status Parse(const char* data, size_t size, const JsonlFields& fields, bool collect_keys,
               JsonlLine* out);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_IMPORT_JSONL_LINE_H_
