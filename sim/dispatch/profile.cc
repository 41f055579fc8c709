// Profiles from a routing trace (partners, similarity) and similarity
// tables from JSON. Definitions are in profile.h.
#include "sim/dispatch/profile.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "sim/base/file_util.h"
#include "sim/trace/reader.h"

namespace epsim::dispatch {
namespace {

// One layer's sums: co-activation counts and score dot products.
class LayerAccumulator {
 public:
  LayerAccumulator(uint32_t num_experts, ProfileParts parts) : e_(num_experts), parts_(parts) {
    if (parts.partners) coact_.Resize(num_experts);
    if (parts.similarity) dot_.assign(size_t{num_experts} * num_experts, 0.0);
  }

  // One token: `c` candidates, the first `k` selected.
  void Add(const uint32_t* idx, const float* w, uint32_t k, uint32_t c) {
    if (parts_.partners)
      for (uint32_t i = 0; i < k; ++i)
        for (uint32_t j = 0; j < k; ++j) ++coact_.at(idx[i], idx[j]);
    if (parts_.similarity)
      for (uint32_t i = 0; i < c; ++i)
        for (uint32_t j = 0; j < c; ++j) dot_[size_t{idx[i]} * e_ + idx[j]] += double{w[i]} * w[j];
  }

  LayerProfile Finish() const {
    LayerProfile out;
    if (parts_.partners) out.partners = PartnersFromCoactivation(coact_);
    if (parts_.similarity) out.similarity = Cosine();
    return out;
  }

 private:
  std::vector<float> Cosine() const {
    std::vector<float> sim(dot_.size(), 0.0f);
    for (uint32_t i = 0; i < e_; ++i)
      for (uint32_t j = 0; j < e_; ++j) {
        const double norms = dot_[size_t{i} * e_ + i] * dot_[size_t{j} * e_ + j];
        if (norms > 0)
          sim[size_t{i} * e_ + j] = static_cast<float>(dot_[size_t{i} * e_ + j] / std::sqrt(norms));
      }
    return sim;
  }

  uint32_t e_;
  ProfileParts parts_;
  trace::CountMatrix coact_;
  std::vector<double> dot_;
};

class Accumulator {
 public:
  Accumulator(uint32_t num_experts, ProfileParts parts) : e_(num_experts), parts_(parts) {}

  LayerAccumulator& Layer(uint32_t layer) {
    return layers_.try_emplace(layer, e_, parts_).first->second;
  }

  std::map<uint32_t, LayerProfile> Finish() const {
    std::map<uint32_t, LayerProfile> out;
    for (const auto& [layer, acc] : layers_) out.emplace(layer, acc.Finish());
    return out;
  }

 private:
  uint32_t e_;
  ProfileParts parts_;
  std::map<uint32_t, LayerAccumulator> layers_;
};

// One E x E table from JSON: E rows of E finite numbers.
Result<std::vector<float>> ParseTable(const nlohmann::json& j, const std::string& where,
                                      uint32_t num_experts) {
  const std::string shape = "must be " + std::to_string(num_experts) + " rows of " +
                            std::to_string(num_experts) + " numbers";
  if (!j.is_array() || j.size() != num_experts) return Status::BadInput(where + ": " + shape);
  std::vector<float> table;
  table.reserve(size_t{num_experts} * num_experts);
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& row = j[i];
    if (!row.is_array() || row.size() != num_experts)
      return Status::BadInput(where + ": row " + std::to_string(i) + ": " + shape);
    for (size_t c = 0; c < row.size(); ++c) {
      if (!row[c].is_number() || !std::isfinite(row[c].get<double>()))
        return Status::BadInput(where + ": row " + std::to_string(i) + " column " +
                                std::to_string(c) + ": not a finite number");
      table.push_back(row[c].get<float>());
    }
  }
  return table;
}

Result<uint32_t> ParseLayerKey(const std::string& key, const std::string& source) {
  auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  const bool digits =
      !key.empty() && key.size() <= 9 && std::all_of(key.begin(), key.end(), is_digit);
  if (!digits) return Status::BadInput(source + ": layer key '" + key + "' is not a layer number");
  return static_cast<uint32_t>(std::stoul(key));
}

}  // namespace

ProfileParts PartsNeededBy(const Strategy& strategy) {
  // Names are canonical specs (strategy.cc), so the prefix identifies them.
  const std::string name = strategy.name();
  ProfileParts parts;
  parts.partners = name.rfind("c2r:", 0) == 0;
  parts.similarity = name.rfind("pruned:", 0) == 0 && name.ends_with(":similarity");
  return parts;
}

std::vector<std::vector<uint32_t>> PartnersFromCoactivation(const trace::CountMatrix& coact) {
  std::vector<std::vector<uint32_t>> partners(coact.n);
  for (uint32_t e = 0; e < coact.n; ++e) {
    std::vector<uint32_t>& list = partners[e];
    for (uint32_t o = 0; o < coact.n; ++o)
      if (o != e) list.push_back(o);
    // Ascending ids in, stable sort by count: ties stay by id.
    std::stable_sort(list.begin(), list.end(),
                     [&](uint32_t a, uint32_t b) { return coact.at(e, a) > coact.at(e, b); });
  }
  return partners;
}

Result<std::map<uint32_t, LayerProfile>> BuildProfiles(const std::string& profile_trace_path,
                                                       uint32_t num_experts, ProfileParts parts) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(profile_trace_path));
  const proto::TraceHeader& h = reader->header();
  if (h.num_experts() != num_experts)
    return Status::BadInput(profile_trace_path + ": profile trace has " +
                            std::to_string(h.num_experts()) + " experts, the run " +
                            std::to_string(num_experts));
  Accumulator acc(num_experts, parts);
  const uint32_t k = h.num_topk(), c = h.num_candidates();
  proto::LayerRecord record;
  while (true) {
    EPSIM_ASSIGN_OR_RETURN(const bool more, reader->Next(&record));
    if (!more) break;
    LayerAccumulator& layer = acc.Layer(record.layer());
    for (int t = 0; t < record.token_ids_size(); ++t)
      layer.Add(record.topk_idx().data() + size_t(t) * c,
                record.topk_weights().data() + size_t(t) * c, k, c);
  }
  return acc.Finish();
}

std::map<uint32_t, LayerProfile> BuildProfiles(const trace::Trace& trace, ProfileParts parts) {
  Accumulator acc(trace.header.num_experts(), parts);
  for (const trace::LayerRouting& routing : trace.layers) {
    LayerAccumulator& layer = acc.Layer(routing.layer);
    for (size_t t = 0; t < routing.num_tokens(); ++t)
      layer.Add(routing.topk(t), routing.weights(t), routing.num_topk, routing.num_candidates);
  }
  return acc.Finish();
}

std::string DescribeSimilarityEstimate(uint32_t num_topk, uint32_t num_candidates) {
  if (num_candidates > num_topk)
    return "expert similarity: cosine of router scores over the trace's " +
           std::to_string(num_candidates) + " candidates per token (unlisted = 0)";
  return "expert similarity: cosine of top-" + std::to_string(num_topk) +
         " scores (trace lists no other candidates: a score-weighted co-activation)";
}

Result<SimilarityTables> ParseSimilarityJson(const std::string& text, const std::string& source,
                                             uint32_t num_experts) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Status::BadInput(source + ": " + e.what());
  }
  if (!doc.is_object()) return Status::BadInput(source + ": expected a JSON object");
  SimilarityTables out;
  out.source = source;
  for (const auto& [key, value] : doc.items())
    if (key != "default" && key != "layers")
      return Status::BadInput(source + ": unknown key '" + key + "' (expected default, layers)");
  if (doc.contains("default")) {
    EPSIM_ASSIGN_OR_RETURN(out.fallback, ParseTable(doc["default"], source + ": default",
                                                    num_experts));
  }
  if (doc.contains("layers")) {
    if (!doc["layers"].is_object())
      return Status::BadInput(source + ": layers: expected an object keyed by layer");
    for (const auto& [key, value] : doc["layers"].items()) {
      EPSIM_ASSIGN_OR_RETURN(const uint32_t layer, ParseLayerKey(key, source));
      EPSIM_ASSIGN_OR_RETURN(out.per_layer[layer],
                             ParseTable(value, source + ": layer " + key, num_experts));
    }
  }
  if (out.fallback.empty() && out.per_layer.empty())
    return Status::BadInput(source + ": no similarity table (need default or layers)");
  return out;
}

Result<SimilarityTables> ReadSimilarityFile(const std::string& path, uint32_t num_experts) {
  EPSIM_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  return ParseSimilarityJson(text, path, num_experts);
}

Status ApplySimilarity(const SimilarityTables& tables, const std::vector<uint32_t>& layers,
                       std::map<uint32_t, LayerProfile>* profiles) {
  for (uint32_t layer : layers) {
    auto it = tables.per_layer.find(layer);
    if (it == tables.per_layer.end() && tables.fallback.empty())
      return Status::BadInput(tables.source + ": no similarity table for layer " +
                              std::to_string(layer) + " and no default");
    (*profiles)[layer].similarity = it != tables.per_layer.end() ? it->second : tables.fallback;
  }
  return Status::Ok();
}

}  // namespace epsim::dispatch
