#include "sim/trace/import_jsonl_line.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <limits>

namespace epsim::trace {

namespace {

using simdjson::dom::element;

std::string Text(const element& value) { return simdjson::minify(value); }

Status GetUint(const element& value, std::string_view key, uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  if (value.get_uint64().get(v) != simdjson::SUCCESS || v > max)
    return Status::BadInput(
        fmt::format("\"{}\" is {}, expected an integer in 0..{}", key, Text(value), max));
  *out = v;
  return Status::Ok();
}

Status GetIds(const element& value, std::string_view key, std::vector<uint32_t>* ids) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS || array.size() == 0)
    return Status::BadInput(fmt::format("\"{}\" must be a non-empty array of expert ids", key));
  for (element e : array) {
    uint64_t id = 0;
    if (e.get_uint64().get(id) != simdjson::SUCCESS || id > std::numeric_limits<uint32_t>::max())
      return Status::BadInput(fmt::format("\"{}\" holds {}, not an expert id", key, Text(e)));
    ids->push_back(static_cast<uint32_t>(id));
  }
  return Status::Ok();
}

Status GetScores(const element& value, std::string_view key, std::vector<float>* scores) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS)
    return Status::BadInput(fmt::format("\"{}\" must be an array of numbers", key));
  for (element e : array) {
    double p = 0;
    if (e.get_double().get(p) != simdjson::SUCCESS || !std::isfinite(p))
      return Status::BadInput(fmt::format("\"{}\" holds {}, not a number", key, Text(e)));
    scores->push_back(static_cast<float>(p));
  }
  return Status::Ok();
}

Status GetSequence(const element& value, std::string_view key, JsonlLine* out) {
  std::string_view s;
  if (value.get_string().get(s) == simdjson::SUCCESS) {
    out->sequence_is_string = true;
    out->sequence_string.assign(s);
    return Status::Ok();
  }
  if (value.get_uint64().get(out->sequence) == simdjson::SUCCESS) return Status::Ok();
  return Status::BadInput(fmt::format(
      "\"{}\" is {}, expected an unsigned integer or a string", key, Text(value)));
}

Status ParseMeta(const simdjson::dom::object& obj, JsonlLine* out) {
  for (auto [key, value] : obj) {
    if (key == "num_experts") {
      EPSIM_RETURN_IF_ERROR(GetUint(value, key, std::numeric_limits<uint32_t>::max(),
                                    &out->num_experts));
      out->has_num_experts = true;
    } else if (key == "top_k") {
      EPSIM_RETURN_IF_ERROR(GetUint(value, key, std::numeric_limits<uint32_t>::max(),
                                    &out->top_k));
      out->has_top_k = true;
    } else if (key == "model") {
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS)
        return Status::BadInput(fmt::format("meta \"model\" is {}, not a string", Text(value)));
      out->model.assign(s);
      out->has_model = true;
    }
  }
  return Status::Ok();
}

Status ParseRouteField(std::string_view key, const element& value, const JsonlFields& f,
                       JsonlLine* out) {
  if (key == f.layer) {
    uint64_t layer = 0;
    EPSIM_RETURN_IF_ERROR(GetUint(value, key, std::numeric_limits<uint32_t>::max(), &layer));
    out->layer = static_cast<uint32_t>(layer);
    out->has_layer = true;
  } else if (key == f.ids) {
    EPSIM_RETURN_IF_ERROR(GetIds(value, key, &out->ids));
    out->has_ids = true;
  } else if (key == f.scores) {
    EPSIM_RETURN_IF_ERROR(GetScores(value, key, &out->scores));
    out->has_scores = true;
  } else if (key == f.token) {
    EPSIM_RETURN_IF_ERROR(
        GetUint(value, key, std::numeric_limits<uint64_t>::max(), &out->token));
    out->has_token = true;
  } else if (key == f.sequence) {
    EPSIM_RETURN_IF_ERROR(GetSequence(value, key, out));
    out->has_sequence = true;
  }
  return Status::Ok();
}

// "route", "meta" or absent (a route row); anything else is an error.
Status CheckType(const simdjson::dom::object& obj, bool* is_meta) {
  element type;
  *is_meta = false;
  if (obj["type"].get(type) != simdjson::SUCCESS) return Status::Ok();
  std::string_view s;
  if (type.get_string().get(s) == simdjson::SUCCESS && (s == "route" || s == "meta")) {
    *is_meta = s == "meta";
    return Status::Ok();
  }
  return Status::BadInput(
      fmt::format("\"type\" is {}, expected \"route\" or \"meta\"", Text(type)));
}

}  // namespace

class JsonlLineParser::Impl {
 public:
  simdjson::dom::parser parser;
};

JsonlLineParser::JsonlLineParser() : impl_(std::make_unique<Impl>()) {}
JsonlLineParser::~JsonlLineParser() = default;

Status JsonlLineParser::Parse(std::string& line, const JsonlFields& fields, bool collect_keys,
                              JsonlLine* out) {
  out->has_layer = out->has_ids = out->has_scores = out->has_token = out->has_sequence = false;
  out->sequence_is_string = false;
  out->sequence = 0;
  out->ids.clear();
  out->scores.clear();
  out->keys.clear();
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: make them ours.
  if (line.capacity() < line.size() + simdjson::SIMDJSON_PADDING)
    line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
  element doc;
  if (impl_->parser.parse(line.data(), line.size(), /*realloc_if_needed=*/false).get(doc) !=
      simdjson::SUCCESS)
    return Status::BadInput("malformed JSON");
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    return Status::BadInput("not a JSON object");
  EPSIM_RETURN_IF_ERROR(CheckType(obj, &out->is_meta));
  if (out->is_meta) {
    out->has_num_experts = out->has_top_k = out->has_model = false;
    return ParseMeta(obj, out);
  }
  for (auto [key, value] : obj) {
    if (collect_keys) out->keys.emplace_back(key);
    EPSIM_RETURN_IF_ERROR(ParseRouteField(key, value, fields, out));
  }
  return Status::Ok();
}

}  // namespace epsim::trace
