#include "sim/dispatch/token_split.h"

#include "sim/base/check.h"

namespace epsim::dispatch {

TokenSplit::TokenSplit(uint64_t num_tokens, uint32_t num_ranks)
    : num_tokens_(num_tokens), num_ranks_(num_ranks) {
  EPSIM_CHECK(num_ranks > 0);
  base_ = num_tokens / num_ranks;
  first_long_ = num_ranks - static_cast<uint32_t>(num_tokens % num_ranks);
}

uint64_t TokenSplit::TokensOn(uint32_t rank) const {
  return base_ + (rank >= first_long_ ? 1 : 0);
}

uint64_t TokenSplit::FirstToken(uint32_t rank) const {
  const uint64_t long_before = rank > first_long_ ? rank - first_long_ : 0;
  return uint64_t{rank} * base_ + long_before;
}

uint32_t TokenSplit::RankOf(uint64_t t) const {
  EPSIM_CHECK(t < num_tokens_);
  const uint64_t short_span = uint64_t{first_long_} * base_;
  if (t < short_span) return static_cast<uint32_t>(t / base_);
  return first_long_ + static_cast<uint32_t>((t - short_span) / (base_ + 1));
}

std::vector<uint64_t> TokenSplit::TokensPerRank() const {
  std::vector<uint64_t> out(num_ranks_);
  for (uint32_t r = 0; r < num_ranks_; ++r) out[r] = TokensOn(r);
  return out;
}

}  // namespace epsim::dispatch
