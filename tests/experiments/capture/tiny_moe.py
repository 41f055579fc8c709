"""Tiny randomly initialised MoE models with the module layout of Hugging Face.

model.model.layers[i].mlp is an MoE block holding `gate` and `experts`, in
three router styles:
  - "linear":  gate = nn.Linear(hidden, E) returning logits; the block does
    softmax, top-k and optional renormalisation (OLMoE, Qwen2-MoE, Mixtral,
    Qwen3-MoE in transformers 4.x);
  - "router":  gate = a TopKRouter module with `weight` returning
    (logits, scores, indices) (the same families in newer transformers);
  - "moegate": gate = DeepSeek-MoE's MoEGate returning
    (topk_idx, topk_weight, aux_loss), top-k unsorted; layer 0 is dense as
    in DeepSeek-MoE (first_k_dense_replace = 1).
Each block keeps its own routing decision of the last call in `last_topk_idx`
([B*S, k], descending score) so that tests compare the hooks against it.
"""

if __name__ == "__main__":  # a module: --help says so and what imports it
    import argparse
    argparse.ArgumentParser(description=__doc__.splitlines()[0],
                            epilog="A module, imported by moe_hooks_test.py; nothing to run.").parse_args()
    raise SystemExit("tiny_moe.py: a module, imported by moe_hooks_test.py; nothing to run")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


class Expert(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.up = nn.Linear(hidden, 2 * hidden, bias=False)
        self.down = nn.Linear(2 * hidden, hidden, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.up(x)))


def _combine(experts, x, idx, weights):
    out = torch.zeros_like(x)
    for slot in range(idx.shape[1]):
        for e in idx[:, slot].unique().tolist():
            rows = (idx[:, slot] == e).nonzero().reshape(-1)
            out[rows] += weights[rows, slot, None] * experts[e](x[rows])
    return out


class LinearGateBlock(nn.Module):
    def __init__(self, hidden, num_experts, top_k, norm_topk_prob):
        super().__init__()
        self.num_experts, self.top_k, self.norm_topk_prob = num_experts, top_k, norm_topk_prob
        self.gate = nn.Linear(hidden, num_experts, bias=False)
        self.experts = nn.ModuleList(Expert(hidden) for _ in range(num_experts))

    def forward(self, h):
        b, s, d = h.shape
        x = h.view(-1, d)
        logits = self.gate(x)
        probs = F.softmax(logits, dim=1, dtype=torch.float)
        weights, idx = torch.topk(probs, self.top_k, dim=-1)
        if self.norm_topk_prob:
            weights = weights / weights.sum(dim=-1, keepdim=True)
        self.last_topk_idx = idx
        return _combine(self.experts, x, idx, weights).view(b, s, d)


class TopKRouter(nn.Module):
    def __init__(self, hidden, num_experts, top_k):
        super().__init__()
        self.top_k, self.num_experts = top_k, num_experts
        self.weight = nn.Parameter(torch.randn(num_experts, hidden) * 0.5)

    def forward(self, h):
        logits = F.linear(h.reshape(-1, self.weight.shape[1]), self.weight)
        probs = F.softmax(logits.float(), dim=-1)
        scores, indices = torch.topk(probs, self.top_k, dim=-1)
        return logits, scores, indices


class RouterBlock(nn.Module):
    def __init__(self, hidden, num_experts, top_k):
        super().__init__()
        self.gate = TopKRouter(hidden, num_experts, top_k)
        self.experts = nn.ModuleList(Expert(hidden) for _ in range(num_experts))

    def forward(self, h):
        b, s, d = h.shape
        x = h.view(-1, d)
        _, weights, idx = self.gate(x)
        self.last_topk_idx = idx
        return _combine(self.experts, x, idx, weights).view(b, s, d)


class MoEGate(nn.Module):
    def __init__(self, hidden, num_experts, top_k, topk_method="greedy"):
        super().__init__()
        self.top_k, self.n_routed_experts = top_k, num_experts
        self.scoring_func, self.topk_method = "softmax", topk_method
        self.weight = nn.Parameter(torch.randn(num_experts, hidden) * 0.5)

    def forward(self, h):
        x = h.view(-1, h.shape[-1])
        scores = F.linear(x, self.weight).softmax(dim=-1)
        topk_weight, topk_idx = torch.topk(scores, k=self.top_k, dim=-1, sorted=False)
        return topk_idx, topk_weight, None


class DeepseekMoE(nn.Module):
    def __init__(self, hidden, num_experts, top_k, topk_method="greedy"):
        super().__init__()
        self.gate = MoEGate(hidden, num_experts, top_k, topk_method)
        self.experts = nn.ModuleList(Expert(hidden) for _ in range(num_experts))

    def forward(self, h):
        b, s, d = h.shape
        idx, weights, _ = self.gate(h)
        self.last_topk_idx = idx.gather(1, weights.argsort(dim=1, descending=True))
        return _combine(self.experts, h.view(-1, d), idx, weights).view(b, s, d)


class Layer(nn.Module):
    def __init__(self, mlp, hidden):
        super().__init__()
        self.mix = nn.Linear(hidden, hidden, bias=False)  # stands in for attention
        self.mlp = mlp

    def forward(self, h):
        h = h + torch.tanh(self.mix(h))
        return h + self.mlp(h)


class Inner(nn.Module):
    def __init__(self, layers, vocab, hidden):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(layers)


class TinyMoeForCausalLM(nn.Module):
    """model.layers[i].mlp = MoE block; forward(input_ids, attention_mask)."""

    def __init__(self, style="linear", num_layers=3, hidden=16, num_experts=16, top_k=4,
                 vocab=50, seed=0, norm_topk_prob=False, topk_method="greedy"):
        super().__init__()
        torch.manual_seed(seed)
        layers = []
        for i in range(num_layers):
            if style == "linear":
                mlp = LinearGateBlock(hidden, num_experts, top_k, norm_topk_prob)
            elif style == "router":
                mlp = RouterBlock(hidden, num_experts, top_k)
            elif i == 0:  # DeepSeek-MoE: the first layer is dense
                mlp = Expert(hidden)
            else:
                mlp = DeepseekMoE(hidden, num_experts, top_k, topk_method)
            layers.append(Layer(mlp, hidden))
        self.model = Inner(layers, vocab, hidden)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)

    def forward(self, input_ids, attention_mask=None, use_cache=False):
        h = self.model.embed_tokens(input_ids)
        for layer in self.model.layers:
            h = layer(h)
        return self.lm_head(h)

    def moe_blocks(self):
        return {i: l.mlp for i, l in enumerate(self.model.layers) if hasattr(l.mlp, "gate")}
