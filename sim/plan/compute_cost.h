// The GPU kernels of one transformer block, as FLOPs and device-memory bytes
// (proto::Kernel). Execution turns them into time: the simulator with a
// roofline of the topology's GPU, the hardware harness by running them.
//
// Conventions: a GEMM of [m x k] by [k x n] is 2mkn FLOPs; bytes count
// weights once plus activations read and written, b bytes per element
// (model.activation_bytes). Norms, rotary embeddings and biases are left out
// (a few percent of a block).
#ifndef EPSIM_SIM_PLAN_COMPUTE_COST_H_
#define EPSIM_SIM_PLAN_COMPUTE_COST_H_

#include <cstdint>

#include "sim/proto/model.pb.h"
#include "sim/proto/schedule.pb.h"

namespace epsim::plan {

// Attention of `num_tokens` prefill tokens whose causal contexts add up to
// `sum_context` (a token at position p attends to p + 1 tokens): QKV and
// output projections (MHA, GQA or MLA shapes) and the score/value products.
proto::Kernel AttentionKernel(const proto::Model& m, uint64_t num_tokens, double sum_context);

// Weight elements of the attention projections (Q, K, V, O; MLA's shapes).
double AttentionWeights(const proto::Model& m);

// `k` with FLOPs and bytes times `factor`, renamed: a backward pass's input
// and weight gradients cost about twice the forward GEMMs (factor 2).
proto::Kernel ScaledKernel(const proto::Kernel& k, const char* name, double factor);

// Bytes of one token's KV cache in one layer: K and V of every KV head
// (MHA, GQA: 2 x kv_heads x head_dim), or MLA's compressed latent and its
// rotary key (kv_lora_rank + qk_rope_head_dim); activation_bytes each.
double KvCacheBytesPerToken(const proto::Model& m);

// Attention of `num_tokens` decode tokens (one new token per sequence)
// whose KV-cache lengths, their own token included, add up to
// `sum_context`: the projections and score/value products of
// AttentionKernel, plus reading every cached token's K and V and writing
// the new ones, which makes decode attention memory-bound.
proto::Kernel DecodeAttentionKernel(const proto::Model& m, uint64_t num_tokens,
                                    double sum_context);

// A SwiGLU FFN of width `ffn` over `num_tokens` rows: gate, up and down
// projections, 6 * n * H * F FLOPs, weights 3 * H * F.
proto::Kernel SwigluKernel(const proto::Model& m, const char* name, uint64_t num_tokens,
                           uint64_t ffn);

// Router GEMM (H x E) and top-k over `num_tokens`.
proto::Kernel GateKernel(const proto::Model& m, uint64_t num_tokens);

// Copies `num_rows` rows of H elements (permute into send order, or back).
proto::Kernel CopyRowsKernel(const proto::Model& m, const char* name, uint64_t num_rows);

// Weighted sum of `num_inputs` expert output rows into `num_outputs` rows.
proto::Kernel ReduceKernel(const proto::Model& m, const char* name, uint64_t num_inputs,
                           uint64_t num_outputs);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_COMPUTE_COST_H_
