#include "sim/placement/device_count_search.h"

#include <algorithm>
#include <random>

namespace epsim::placement {
namespace {

// Search state: per token, how many of its picks sit on each rank; the
// objective is the number of non-zero counts summed over tokens.
class DeviceCountState {
 public:
  DeviceCountState(const LayerTokens& tokens, uint32_t num_ranks, uint32_t num_experts)
      : tokens_(tokens), d_(num_ranks), tokens_of_(num_experts) {
    for (size_t t = 0; t < tokens.num_tokens(); ++t)
      for (uint32_t i = 0; i < tokens.num_topk; ++i) tokens_of_[Pick(t, i)].push_back(t);
  }

  void Reset(const std::vector<uint32_t>& rank_of_expert) {
    rank_ = rank_of_expert;
    count_.assign(tokens_.num_tokens() * d_, 0);
    total_ = 0;
    for (size_t t = 0; t < tokens_.num_tokens(); ++t)
      for (uint32_t i = 0; i < tokens_.num_topk; ++i)
        if (count_[t * d_ + rank_[Pick(t, i)]]++ == 0) ++total_;
  }

  // Change of the objective if experts a and b swapped ranks.
  int64_t Delta(uint32_t a, uint32_t b) const {
    return Moves(a, b, rank_[a], rank_[b]) + Moves(b, a, rank_[b], rank_[a]);
  }

  void Swap(uint32_t a, uint32_t b) {
    total_ += Delta(a, b);
    Move(a, b, rank_[a], rank_[b]);
    Move(b, a, rank_[b], rank_[a]);
    std::swap(rank_[a], rank_[b]);
  }

  uint64_t total() const { return total_; }
  const std::vector<uint32_t>& ranks() const { return rank_; }

 private:
  uint32_t Pick(size_t t, uint32_t i) const { return tokens_.picks[t * tokens_.num_topk + i]; }
  bool Has(size_t t, uint32_t e) const {
    for (uint32_t i = 0; i < tokens_.num_topk; ++i)
      if (Pick(t, i) == e) return true;
    return false;
  }
  // Tokens that pick `e` but not `other` see e move from rank `from` to `to`.
  int64_t Moves(uint32_t e, uint32_t other, uint32_t from, uint32_t to) const {
    int64_t delta = 0;
    for (size_t t : tokens_of_[e]) {
      if (Has(t, other)) continue;
      delta -= count_[t * d_ + from] == 1;
      delta += count_[t * d_ + to] == 0;
    }
    return delta;
  }
  void Move(uint32_t e, uint32_t other, uint32_t from, uint32_t to) {
    for (size_t t : tokens_of_[e]) {
      if (Has(t, other)) continue;
      --count_[t * d_ + from];
      ++count_[t * d_ + to];
    }
  }

  const LayerTokens& tokens_;
  const uint32_t d_;
  std::vector<std::vector<size_t>> tokens_of_;
  std::vector<uint32_t> rank_;
  std::vector<uint16_t> count_;  // [token * D + rank]
  uint64_t total_ = 0;
};

// Sweeps every allowed pair, taking each swap that lowers the objective,
// until a sweep finds none.
void Descend(const std::vector<uint32_t>& swap_class, DeviceCountState* s) {
  const uint32_t n = static_cast<uint32_t>(s->ranks().size());
  for (bool improved = true; improved;) {
    improved = false;
    for (uint32_t a = 0; a < n; ++a)
      for (uint32_t b = a + 1; b < n; ++b) {
        const uint32_t ra = s->ranks()[a], rb = s->ranks()[b];
        if (ra == rb || swap_class[ra] != swap_class[rb] || s->Delta(a, b) >= 0) continue;
        s->Swap(a, b);
        improved = true;
      }
  }
}

// A random allowed swap, if one is found in a few draws.
void Kick(const std::vector<uint32_t>& swap_class, std::mt19937_64& rng, DeviceCountState* s) {
  const uint32_t n = static_cast<uint32_t>(s->ranks().size());
  for (int tries = 0; tries < 64; ++tries) {
    const uint32_t a = rng() % n, b = rng() % n;
    const uint32_t ra = s->ranks()[a], rb = s->ranks()[b];
    if (ra == rb || swap_class[ra] != swap_class[rb]) continue;
    s->Swap(a, b);
    return;
  }
}

}  // namespace

double MeanDevices(const LayerTokens& tokens, const std::vector<uint32_t>& rank_of_expert,
                   uint32_t num_ranks) {
  if (tokens.num_tokens() == 0) return 0;
  DeviceCountState s(tokens, num_ranks, static_cast<uint32_t>(rank_of_expert.size()));
  s.Reset(rank_of_expert);
  return static_cast<double>(s.total()) / tokens.num_tokens();
}

void SearchDevices(const LayerTokens& tokens, uint32_t num_ranks,
                   const std::vector<uint32_t>& swap_class, uint64_t seed, uint32_t kicks,
                   std::vector<uint32_t>* rank_of_expert) {
  if (tokens.num_tokens() == 0) return;
  const std::vector<uint32_t> classes =
      swap_class.empty() ? std::vector<uint32_t>(num_ranks, 0) : swap_class;
  DeviceCountState s(tokens, num_ranks, static_cast<uint32_t>(rank_of_expert->size()));
  s.Reset(*rank_of_expert);
  Descend(classes, &s);
  std::vector<uint32_t> best = s.ranks();
  uint64_t best_total = s.total();
  std::mt19937_64 rng(seed);
  for (uint32_t k = 0; k < kicks; ++k) {
    Kick(classes, rng, &s);
    Kick(classes, rng, &s);
    Descend(classes, &s);
    if (s.total() <= best_total) {
      best = s.ranks(), best_total = s.total();
    } else {
      s.Reset(best);
    }
  }
  *rank_of_expert = std::move(best);
}

}  // namespace epsim::placement
