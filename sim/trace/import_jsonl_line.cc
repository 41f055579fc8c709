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

// [tokens][layers][k] expert ids; -1 marks a slot without an expert.
Status GetRouted(const element& value, std::string_view key, JsonlLine* out) {
  const auto bad = [&](const std::string& what) {
    return Status::BadInput(fmt::format("\"{}\" must be a [tokens][layers][k] array of expert "
                                        "ids: {}", key, what));
  };
  simdjson::dom::array tokens;
  if (value.get_array().get(tokens) != simdjson::SUCCESS) return bad("not an array");
  out->routed_tokens = out->routed_layers = out->routed_k = 0;
  for (element token : tokens) {
    simdjson::dom::array layers;
    if (token.get_array().get(layers) != simdjson::SUCCESS)
      return bad(fmt::format("token {} is {}", out->routed_tokens, Text(token)));
    uint32_t num_layers = 0;
    for (element layer : layers) {
      simdjson::dom::array ids;
      if (layer.get_array().get(ids) != simdjson::SUCCESS)
        return bad(fmt::format("token {} layer {} is {}", out->routed_tokens, num_layers,
                               Text(layer)));
      uint32_t k = 0;
      for (element e : ids) {
        int64_t id = 0;
        if (e.get_int64().get(id) != simdjson::SUCCESS || id < -1 ||
            id >= int64_t{std::numeric_limits<uint32_t>::max()})
          return bad(fmt::format("token {} layer {} holds {}, not an expert id",
                                 out->routed_tokens, num_layers, Text(e)));
        out->ids.push_back(id < 0 ? kNoExpert : static_cast<uint32_t>(id));
        ++k;
      }
      if (out->routed_k == 0) out->routed_k = k;
      if (k == 0 || k != out->routed_k)
        return bad(fmt::format("token {} layer {} has {} ids, earlier ones {}",
                               out->routed_tokens, num_layers, k, out->routed_k));
      ++num_layers;
    }
    if (out->routed_tokens == 0) out->routed_layers = num_layers;
    if (num_layers == 0 || num_layers != out->routed_layers)
      return bad(fmt::format("token {} has {} layers, earlier ones {}", out->routed_tokens,
                             num_layers, out->routed_layers));
    ++out->routed_tokens;
  }
  if (out->routed_tokens == 0) return bad("no tokens");
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
  } else if (!f.routed.empty() && key == f.routed) {
    std::string_view encoded;
    if (value.get_string().get(encoded) == simdjson::SUCCESS)
      return Status::BadInput(fmt::format(
          "\"{}\" is a string (base64, as SGLang returns it): decode it to a "
          "[tokens][layers][k] array first (experiments/capture/README.md)",
          key));
    EPSIM_RETURN_IF_ERROR(GetRouted(value, key, out));
    out->has_routed = true;
  }
  return Status::Ok();
}

}  // namespace

class JsonlLineParser::Impl {
 public:
  simdjson::dom::parser parser;
};

JsonlLineParser::JsonlLineParser() : impl_(std::make_unique<Impl>()) {}
JsonlLineParser::~JsonlLineParser() = default;

Status JsonlLineParser::Parse(const char* data, size_t size, const JsonlFields& fields,
                              bool collect_keys, JsonlLine* out) {
  out->has_layer = out->has_ids = out->has_scores = out->has_token = out->has_sequence = false;
  out->has_routed = false;
  out->sequence_is_string = false;
  out->sequence = 0;
  out->ids.clear();
  out->scores.clear();
  out->keys.clear();
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: the caller's.
  static_assert(simdjson::SIMDJSON_PADDING <= 64, "LogInput pads chunks by 64 bytes");
  element doc;
  if (impl_->parser.parse(data, size, /*realloc_if_needed=*/false).get(doc) != simdjson::SUCCESS)
    return Status::BadInput("malformed JSON");
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    return Status::BadInput("not a JSON object");
  // One pass over the keys: "type" (usually first) says route or meta.
  out->is_meta = false;
  for (auto [key, value] : obj) {
    if (key == "type") {
      std::string_view type;
      if (value.get_string().get(type) != simdjson::SUCCESS || (type != "route" && type != "meta"))
        return Status::BadInput(
            fmt::format("\"type\" is {}, expected \"route\" or \"meta\"", Text(value)));
      if (type == "meta") {
        out->is_meta = true;
        out->has_num_experts = out->has_top_k = out->has_model = false;
        return ParseMeta(obj, out);
      }
    }
    if (collect_keys) out->keys.emplace_back(key);
    EPSIM_RETURN_IF_ERROR(ParseRouteField(key, value, fields, out));
  }
  return Status::Ok();
}

}  // namespace epsim::trace
