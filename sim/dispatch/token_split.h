// Where tokens live before dispatch (data-parallel attention): the trace's
// tokens of a layer, in trace order, are split into num_ranks contiguous
// blocks; block r is on rank r. Blocks are equal; a remainder goes one token
// each to the last blocks (N = 10, D = 4: 2, 2, 3, 3).
#ifndef EPSIM_SIM_DISPATCH_TOKEN_SPLIT_H_
#define EPSIM_SIM_DISPATCH_TOKEN_SPLIT_H_

#include <cstdint>
#include <vector>

namespace epsim::dispatch {

class TokenSplit {
 public:
  TokenSplit(uint64_t num_tokens, uint32_t num_ranks);

  uint64_t num_tokens() const { return num_tokens_; }
  uint32_t num_ranks() const { return num_ranks_; }
  // Tokens on `rank`.
  uint64_t TokensOn(uint32_t rank) const;
  // First token index of `rank`'s block.
  uint64_t FirstToken(uint32_t rank) const;
  // The rank holding token `t` (0 <= t < num_tokens).
  uint32_t RankOf(uint64_t t) const;
  std::vector<uint64_t> TokensPerRank() const;

 private:
  uint64_t num_tokens_;
  uint32_t num_ranks_;
  uint64_t base_;        // tokens in a short block
  uint32_t first_long_;  // first rank whose block has base_ + 1 tokens
};

}  // namespace epsim::dispatch

#endif  // EPSIM_SIM_DISPATCH_TOKEN_SPLIT_H_
