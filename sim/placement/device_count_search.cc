#include "sim/placement/device_count_search.h"

#include <algorithm>
#include <iterator>
#include <random>

namespace epsim::placement {
namespace {

// Search state: per token, how many of its picks sit on each rank; the
// objective is the number of non-zero counts summed over tokens.
//
// The change of the objective for a swap of experts a and b (on ranks ra !=
// rb) is read from tables kept up to date by every swap, so that the
// descent's O(E^2) evaluations per sweep cost O(1) each. Moving a to rank r
// changes token t (which picks a) by -[c_t(ra) == 1] + [c_t(r) == 0], so
//   move(a -> r) = zero(a, r) - ones(a),
//   zero(a, r) = #{t picks a : c_t(r) == 0},  ones(a) = #{t picks a : c_t(ra) == 1};
// a token that picks both a and b does not change in a swap, but the sum
// above counted -[c_t(ra) == 1] for it (c_t(rb) >= 1 since b is there), so
//   delta(a, b) = move(a -> rb) + both(a, b) + move(b -> ra) + both(b, a),
//   both(a, b) = #{t picks a and b : c_t(ra) == 1}.
// A swap changes the counts of the tokens that pick a or b only, and there
// only at ra and rb: zero() changes at those two ranks, and ones() and both()
// for the experts whose [c_t(rank) == 1] flips.
class DeviceCountState {
 public:
  DeviceCountState(const LayerTokens& tokens, uint32_t num_ranks, uint32_t num_experts)
      : d_(num_ranks), e_(num_experts), n_(tokens.num_tokens()) {
    // Each token's distinct experts (C_T counts devices, so a repeated pick
    // adds nothing), and each expert's tokens in ascending order.
    start_.reserve(n_ + 1);
    start_.push_back(0);
    std::vector<uint32_t> per_expert(e_, 0);
    for (size_t t = 0; t < n_; ++t) {
      const uint32_t* p = tokens.picks.data() + t * tokens.num_topk;
      for (uint32_t i = 0; i < tokens.num_topk; ++i)
        if (std::find(p, p + i, p[i]) == p + i) picks_.push_back(p[i]), ++per_expert[p[i]];
      start_.push_back(static_cast<uint32_t>(picks_.size()));
    }
    tokens_start_.assign(e_ + 1, 0);
    for (uint32_t x = 0; x < e_; ++x) tokens_start_[x + 1] = tokens_start_[x] + per_expert[x];
    tokens_of_.resize(picks_.size());
    std::vector<uint32_t> next(tokens_start_.begin(), tokens_start_.end() - 1);
    for (size_t t = 0; t < n_; ++t)
      for (uint32_t j = start_[t]; j < start_[t + 1]; ++j) tokens_of_[next[picks_[j]]++] = static_cast<uint32_t>(t);
  }

  void Reset(const std::vector<uint32_t>& rank_of_expert) {
    rank_ = rank_of_expert;
    count_.assign(n_ * d_, 0);
    zero_.assign(size_t{e_} * d_, 0);
    ones_.assign(e_, 0);
    both_.assign(size_t{e_} * e_, 0);
    total_ = 0;
    for (size_t t = 0; t < n_; ++t) {
      for (uint32_t j = start_[t]; j < start_[t + 1]; ++j)
        if (count_[t * d_ + rank_[picks_[j]]]++ == 0) ++total_;
      AddToken(t);
    }
  }

  // Change of the objective if experts a and b swapped ranks.
  int64_t Delta(uint32_t a, uint32_t b) const {
    const uint32_t ra = rank_[a], rb = rank_[b];
    return int64_t{zero_[size_t{a} * d_ + rb]} - ones_[a] + both_[size_t{a} * e_ + b] +
           zero_[size_t{b} * d_ + ra] - ones_[b] + both_[size_t{b} * e_ + a];
  }

  void Swap(uint32_t a, uint32_t b) {
    log_.emplace_back(a, b);
    total_ += Delta(a, b);
    const uint32_t ra = rank_[a], rb = rank_[b];
    auto new_rank = [&](uint32_t x) { return x == a ? rb : x == b ? ra : rank_[x]; };
    // The tokens that pick a or b: the union of two ascending lists.
    affected_.clear();
    std::set_union(tokens_of_.begin() + tokens_start_[a], tokens_of_.begin() + tokens_start_[a + 1],
                   tokens_of_.begin() + tokens_start_[b], tokens_of_.begin() + tokens_start_[b + 1],
                   std::back_inserter(affected_));
    for (uint32_t t : affected_) {
      const uint32_t* p = picks_.data() + start_[t];
      const uint32_t k = start_[t + 1] - start_[t];
      uint16_t* c = count_.data() + size_t{t} * d_;
      bool has_a = false, has_b = false;
      for (uint32_t j = 0; j < k; ++j) has_a |= p[j] == a, has_b |= p[j] == b;
      was_one_.resize(std::max<size_t>(was_one_.size(), k));
      for (uint32_t j = 0; j < k; ++j) was_one_[j] = c[rank_[p[j]]] == 1;
      if (has_a != has_b) {
        // One pick moves from `from` to `to`: [c == 0] can change there only.
        const uint32_t from = has_a ? ra : rb, to = has_a ? rb : ra;
        const int32_t emptied = --c[from] == 0, filled = c[to]++ == 0;
        for (uint32_t j = 0; j < k; ++j) {
          int32_t* zero = zero_.data() + size_t{p[j]} * d_;
          zero[from] += emptied;
          zero[to] -= filled;
        }
      }
      for (uint32_t j = 0; j < k; ++j) {
        const bool is_one = c[new_rank(p[j])] == 1;
        if (is_one == was_one_[j]) continue;
        const int32_t sign = is_one ? 1 : -1;
        ones_[p[j]] += sign;
        int32_t* both = both_.data() + size_t{p[j]} * e_;
        for (uint32_t i = 0; i < k; ++i) both[p[i]] += sign;
        both[p[j]] -= sign;  // not a pair
      }
    }
    std::swap(rank_[a], rank_[b]);
  }

  // Forgets the swaps made so far; Undo() goes back to this state, exactly
  // (the same ranks, counts and tables), by the swaps in reverse order.
  void Mark() { log_.clear(); }
  void Undo() {
    std::vector<std::pair<uint32_t, uint32_t>> log;
    log.swap(log_);
    for (auto it = log.rbegin(); it != log.rend(); ++it) Swap(it->first, it->second);
    log_.clear();
  }

  uint64_t total() const { return total_; }
  const std::vector<uint32_t>& ranks() const { return rank_; }

 private:
  // Adds token t's terms to zero_, ones_ and both_.
  void AddToken(size_t t) {
    const uint16_t* c = count_.data() + t * d_;
    for (uint32_t j = start_[t]; j < start_[t + 1]; ++j) {
      const uint32_t a = picks_[j];
      int32_t* zero = zero_.data() + size_t{a} * d_;
      for (uint32_t r = 0; r < d_; ++r) zero[r] += c[r] == 0;
      if (c[rank_[a]] != 1) continue;
      ++ones_[a];
      int32_t* both = both_.data() + size_t{a} * e_;
      for (uint32_t i = start_[t]; i < start_[t + 1]; ++i) ++both[picks_[i]];
      --both[a];  // not a pair
    }
  }

  const uint32_t d_, e_;
  const size_t n_;
  std::vector<uint32_t> start_, picks_;              // CSR: token t's distinct experts
  std::vector<uint32_t> tokens_start_, tokens_of_;   // CSR: expert x's tokens, ascending
  std::vector<uint32_t> rank_;
  std::vector<uint16_t> count_;  // [token * D + rank]
  std::vector<int32_t> zero_;    // [expert * D + rank]
  std::vector<int32_t> ones_;    // [expert]
  std::vector<int32_t> both_;    // [expert * E + expert]
  std::vector<uint32_t> affected_;
  std::vector<uint8_t> was_one_;
  std::vector<std::pair<uint32_t, uint32_t>> log_;  // swaps since Mark()
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
  uint64_t total = 0;
  std::vector<uint8_t> seen(num_ranks);
  for (size_t t = 0; t < tokens.num_tokens(); ++t) {
    std::fill(seen.begin(), seen.end(), 0);
    for (uint32_t i = 0; i < tokens.num_topk; ++i) {
      const uint32_t r = rank_of_expert[tokens.picks[t * tokens.num_topk + i]];
      total += seen[r] == 0;
      seen[r] = 1;
    }
  }
  return static_cast<double>(total) / tokens.num_tokens();
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
  s.Mark();
  uint64_t best_total = s.total();
  std::mt19937_64 rng(seed);
  for (uint32_t k = 0; k < kicks; ++k) {
    Kick(classes, rng, &s);
    Kick(classes, rng, &s);
    Descend(classes, &s);
    if (s.total() <= best_total) {
      s.Mark();
      best_total = s.total();
    } else {
      s.Undo();  // back to the best
    }
  }
  *rank_of_expert = s.ranks();
}

}  // namespace epsim::placement
