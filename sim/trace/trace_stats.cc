#include "sim/trace/trace_stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <unordered_map>

#include "sim/trace/reader.h"

namespace epsim::trace {
namespace {

// Accumulates one layer; keeps each token's picks for the affinity pass.
struct LayerAccumulator {
  LayerRoutingStats stats;
  std::unordered_map<uint64_t, std::vector<uint32_t>> picks;  // token id -> top-k

  void Add(uint64_t token, const uint32_t* topk, uint32_t k) {
    ++stats.num_tokens;
    for (uint32_t i = 0; i < k; ++i) {
      ++stats.load[topk[i]];
      ++stats.coact.at(topk[i], topk[i]);
      for (uint32_t j = i + 1; j < k; ++j) {
        ++stats.coact.at(topk[i], topk[j]);
        ++stats.coact.at(topk[j], topk[i]);
      }
    }
    picks[token].assign(topk, topk + k);
  }
};

class Accumulator {
 public:
  Accumulator(uint32_t num_experts, uint32_t k) : e_(num_experts), k_(k) {}

  void Add(uint32_t layer, uint64_t token, const uint32_t* topk) {
    auto [it, fresh] = layers_.try_emplace(layer);
    if (fresh) {
      it->second.stats.layer = layer;
      it->second.stats.load.assign(e_, 0);
      it->second.stats.coact.Resize(e_);
    }
    it->second.Add(token, topk, k_);
  }

  TraceStats Finish() {
    TraceStats out;
    out.num_experts = e_;
    out.num_topk = k_;
    for (auto it = layers_.begin(); it != layers_.end(); ++it) {
      auto next = std::next(it);
      if (next != layers_.end()) CountAffinity(it->second, next->second, next->first);
      out.layers.push_back(std::move(it->second.stats));
    }
    return out;
  }

 private:
  void CountAffinity(LayerAccumulator& from, const LayerAccumulator& to, uint32_t next_layer) {
    from.stats.affinity.Resize(e_);
    from.stats.next_layer = next_layer;
    for (const auto& [token, picks] : from.picks) {
      auto found = to.picks.find(token);
      if (found == to.picks.end()) continue;
      ++from.stats.affinity_tokens;
      for (uint32_t i : picks)
        for (uint32_t j : found->second) ++from.stats.affinity.at(i, j);
    }
  }

  uint32_t e_, k_;
  std::map<uint32_t, LayerAccumulator> layers_;
};

}  // namespace

Result<TraceStats> ComputeTraceStats(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, TraceReader::Open(path));
  const proto::TraceHeader& h = reader->header();
  Accumulator acc(h.num_experts(), h.num_topk());
  proto::LayerRecord rec;
  while (true) {
    EPSIM_ASSIGN_OR_RETURN(bool more, reader->Next(&rec));
    if (!more) break;
    for (int t = 0; t < rec.token_ids_size(); ++t)
      acc.Add(rec.layer(), rec.token_ids(t),
              rec.topk_idx().data() + size_t(t) * h.num_candidates());
  }
  return acc.Finish();
}

TraceStats ComputeTraceStats(const Trace& trace) {
  Accumulator acc(trace.header.num_experts(), trace.header.num_topk());
  for (const LayerRouting& layer : trace.layers)
    for (size_t t = 0; t < layer.num_tokens(); ++t)
      acc.Add(layer.layer, layer.token_ids[t], layer.topk(t));
  return acc.Finish();
}

double Imbalance(const std::vector<uint64_t>& load) {
  if (load.empty()) return 0;
  const double sum = std::accumulate(load.begin(), load.end(), 0.0);
  if (sum == 0) return 0;
  return *std::max_element(load.begin(), load.end()) / (sum / load.size());
}

double CoefficientOfVariation(const std::vector<uint64_t>& load) {
  if (load.empty()) return 0;
  const double mean = std::accumulate(load.begin(), load.end(), 0.0) / load.size();
  if (mean == 0) return 0;
  double var = 0;
  for (uint64_t x : load) var += (x - mean) * (x - mean);
  return std::sqrt(var / load.size()) / mean;
}

double OffDiagonalCorrelation(const CountMatrix& a, const CountMatrix& b) {
  if (a.n != b.n || a.n < 2) return 0;
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
  for (uint32_t i = 0; i < a.n; ++i)
    for (uint32_t j = 0; j < a.n; ++j) {
      if (i == j) continue;
      const double x = a.at(i, j), y = b.at(i, j);
      sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y, n += 1;
    }
  const double cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n;
  if (va <= 0 || vb <= 0) return 0;
  return cov / std::sqrt(va * vb);
}

double AffinityConcentration(const CountMatrix& affinity) {
  double top = 0, total = 0;
  for (uint32_t i = 0; i < affinity.n; ++i) {
    uint64_t row_max = 0, row_sum = 0;
    for (uint32_t j = 0; j < affinity.n; ++j) {
      row_max = std::max(row_max, affinity.at(i, j));
      row_sum += affinity.at(i, j);
    }
    top += row_max;
    total += row_sum;
  }
  return total > 0 ? top / total : 0;
}

}  // namespace epsim::trace
