#include "sim/plan/compute_cost.h"

namespace epsim::plan {
namespace {

proto::Kernel MakeKernel(const proto::Model& m, const char* name, proto::KernelOp op,
                         uint64_t rows, double flops, double bytes) {
  proto::Kernel k;
  k.set_name(name);
  k.set_flops(flops);
  k.set_bytes(bytes);
  k.set_op(op);
  k.set_rows(rows);
  k.set_out_rows(rows);
  k.set_hidden(m.hidden());
  k.set_dtype_bytes(m.activation_bytes());
  return k;
}

// Elements of the attention projection weights.
double ProjectionWeights(const proto::Model& m) {
  const double h = m.hidden(), heads = m.num_heads();
  if (m.attention() == proto::MLA) {
    const double qk = m.qk_nope_head_dim() + m.qk_rope_head_dim();
    const double q = m.q_lora_rank() > 0 ? h * m.q_lora_rank() + m.q_lora_rank() * heads * qk
                                         : h * heads * qk;
    const double kv_rank = m.kv_lora_rank();
    const double kv = h * (kv_rank + m.qk_rope_head_dim()) +
                      kv_rank * heads * (m.qk_nope_head_dim() + m.v_head_dim());
    return q + kv + heads * m.v_head_dim() * h;
  }
  const double hd = m.head_dim();
  return h * hd * (2.0 * heads + 2.0 * m.num_kv_heads());
}

// Per-head widths of the score (q.k) and value products.
double ScoreWidth(const proto::Model& m) {
  return m.attention() == proto::MLA ? m.qk_nope_head_dim() + m.qk_rope_head_dim() : m.head_dim();
}
double ValueWidth(const proto::Model& m) {
  return m.attention() == proto::MLA ? m.v_head_dim() : m.head_dim();
}

}  // namespace

proto::Kernel AttentionKernel(const proto::Model& m, uint64_t num_tokens, double sum_context) {
  const double n = static_cast<double>(num_tokens), b = m.activation_bytes();
  const double weights = ProjectionWeights(m);
  const double core = 2.0 * sum_context * m.num_heads() * (ScoreWidth(m) + ValueWidth(m));
  const double flops = 2.0 * n * weights + core;
  // Weights once; input, q/k/v, attention output and block output once each
  // (flash attention keeps scores on chip).
  const double bytes = b * (weights + n * m.hidden() * 6.0);
  return MakeKernel(m, "attention", proto::ATTENTION_BLOCK, num_tokens, flops, bytes);
}

double AttentionWeights(const proto::Model& m) { return ProjectionWeights(m); }

proto::Kernel ScaledKernel(const proto::Kernel& k, const char* name, double factor) {
  proto::Kernel out = k;
  out.set_name(name);
  out.set_flops(k.flops() * factor);
  out.set_bytes(k.bytes() * factor);
  return out;
}

double KvCacheBytesPerToken(const proto::Model& m) {
  const double b = m.activation_bytes();
  if (m.attention() == proto::MLA) return b * (m.kv_lora_rank() + m.qk_rope_head_dim());
  return b * 2.0 * m.num_kv_heads() * m.head_dim();
}

proto::Kernel DecodeAttentionKernel(const proto::Model& m, uint64_t num_tokens,
                                    double sum_context) {
  proto::Kernel k = AttentionKernel(m, num_tokens, sum_context);
  const double kv = KvCacheBytesPerToken(m);
  k.set_name("decode_attention");
  // The cache read (every context token, the new one included) and the new
  // tokens' K and V written.
  k.set_bytes(k.bytes() + kv * (sum_context + static_cast<double>(num_tokens)));
  return k;
}

proto::Kernel SwigluKernel(const proto::Model& m, const char* name, uint64_t num_tokens,
                           uint64_t ffn) {
  const double n = static_cast<double>(num_tokens), h = m.hidden(), f = static_cast<double>(ffn);
  const double b = m.activation_bytes();
  // Reads x (nH), writes gate and up (2nF), reads them and writes the
  // activation (3nF), reads it (nF) and writes the output (nH).
  proto::Kernel k = MakeKernel(m, name, proto::SWIGLU_FFN, num_tokens, 6.0 * n * h * f,
                               b * (3.0 * h * f + 2.0 * n * h + 6.0 * n * f));
  k.set_width(ffn);
  return k;
}

proto::Kernel GateKernel(const proto::Model& m, uint64_t num_tokens) {
  const double n = static_cast<double>(num_tokens), h = m.hidden(), e = m.num_experts();
  const double b = m.activation_bytes();
  // Logits are kept in FP32 for the softmax / top-k (4 bytes).
  proto::Kernel k = MakeKernel(m, "gate", proto::ROUTER, num_tokens, 2.0 * n * h * e,
                               b * (h * e + n * h) + 4.0 * n * e);
  k.set_width(m.num_experts());
  return k;
}

proto::Kernel CopyRowsKernel(const proto::Model& m, const char* name, uint64_t num_rows) {
  const double bytes = 2.0 * static_cast<double>(num_rows) * m.hidden() * m.activation_bytes();
  return MakeKernel(m, name, proto::COPY_ROWS, num_rows, 0.0, bytes);
}

proto::Kernel ReduceKernel(const proto::Model& m, const char* name, uint64_t num_inputs,
                           uint64_t num_outputs) {
  const double h = m.hidden(), b = m.activation_bytes();
  const double in = static_cast<double>(num_inputs), out = static_cast<double>(num_outputs);
  proto::Kernel k =
      MakeKernel(m, name, proto::WEIGHTED_REDUCE, num_inputs, 2.0 * in * h, b * h * (in + out));
  k.set_out_rows(num_outputs);
  return k;
}

}  // namespace epsim::plan
