"""Forward hooks on the routers of a PyTorch MoE model, writing an epsim trace.

An MoE block is any module with a `gate` child module and an `experts`
attribute; this is the layout of every Hugging Face MoE family we target:

  family        block class (transformers)     block.gate
  OLMoE         OlmoeSparseMoeBlock            nn.Linear(hidden, E) -> logits
  Qwen1.5/2-MoE Qwen2MoeSparseMoeBlock         nn.Linear(hidden, E) -> logits
  Mixtral       MixtralSparseMoeBlock          nn.Linear(hidden, E) -> logits
  Qwen3-MoE     Qwen3MoeSparseMoeBlock         nn.Linear(hidden, E) -> logits
  DeepSeek-MoE  DeepseekMoE (remote code)      MoEGate -> (topk_idx, topk_weight, aux_loss)

Newer transformers releases replace the Linear by a `<Family>TopKRouter`
module holding `weight` [E, hidden] and returning (router_logits,
router_scores, router_indices); that is handled too. Qwen2-MoE's
`shared_expert_gate` (hidden -> 1) is not a router and is never hooked: only
`block.gate` is. The layer number is N in the block's module path
`...layers.N...` (model.layers.N.mlp, model.layers.N.block_sparse_moe).

For each gate call the hook forms the router's score over all E experts:
softmax(logits) in float32 (sigmoid where the gate says scoring_func =
"sigmoid"), the logits being the Linear's output or, for router modules,
recomputed from the gate's input and weight. The selected experts are the
top-k by that score, or, when the gate returns expert indices itself
(MoEGate, TopKRouter), exactly those. A row lists the selected experts by
descending score, then `extra_candidates` next-best experts by score. Scores
are the router probabilities before any top-k renormalisation
(norm_topk_prob, Mixtral's top-2 renormalisation), so selected and candidate
scores are on one scale.

Tokens: a forward pass routes B x S positions (flattened batch-major, the
order every family uses). Positions whose attention mask is 0 (padding) are
dropped; the others get token ids in order of appearance, and sequence id =
first_sequence_id + batch row. A gate call for a layer not above the last
one seen starts a new forward pass: the first pass after begin_batch() is the
prefill; later ones (generate()) are decode steps of one token per row.

Steps: every forward pass is one forward step of the trace (FORMATS.md,
version 2), numbered in order across batches: batch 0's prefill is step 0,
its decode steps 1..N, batch 1's prefill N+1, and so on, so that a decode
replay (`epsim simulate --pass decode`) takes each step as the tokens of one
forward pass. With record_prefill=False the prefill passes are not written
(their tokens still get ids, so decode tokens keep the numbers they would
have): the trace then holds only decode steps.
"""

if __name__ == "__main__":  # a module: --help says so and what imports it
    import argparse
    argparse.ArgumentParser(description=__doc__.splitlines()[0],
                            epilog="A module, imported by capture_routing.py; nothing to run.").parse_args()
    raise SystemExit("moe_hooks.py: a module, imported by capture_routing.py; nothing to run")

import re  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError(f"moe_hooks needs torch: apt install python3-torch ({e})") from e

_LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)(?:\.|$)")

# Block class -> family name, for messages and provenance. Other classes of
# the same shape are hooked as well, under the name "generic".
FAMILIES = {
    "OlmoeSparseMoeBlock": "olmoe",
    "Qwen2MoeSparseMoeBlock": "qwen2-moe",
    "MixtralSparseMoeBlock": "mixtral",
    "Qwen3MoeSparseMoeBlock": "qwen3-moe",
    "DeepseekMoE": "deepseek-moe",
    "DeepseekV2MoE": "deepseek-v2",
    "DeepseekV3MoE": "deepseek-v3",
}

# Scores of a candidate may exceed the lowest selected one by this relative
# amount when the gate picked in lower precision (bf16 ties); such a score is
# clamped to the lowest selected one. A larger excess means the router does
# not pick the top-k by score (group-limited or bias-corrected routing).
_TIE_TOLERANCE = 1e-2


class CaptureError(RuntimeError):
    """The model or a forward pass does not fit what the hooks expect."""


class Router:
    """One MoE layer's router as found in the model."""

    def __init__(self, name, layer, block, gate, num_experts, num_topk, scoring):
        self.name = name            # module path of the block
        self.layer = layer          # transformer block index
        self.block = block
        self.gate = gate
        self.family = FAMILIES.get(type(block).__name__, "generic")
        self.num_experts = num_experts
        self.num_topk = num_topk
        self.scoring = scoring      # "softmax" or "sigmoid"
        # True when the block's selection is not the top-k by score.
        self.gate_selects = _selects_beyond_topk(gate)

    def __repr__(self):
        return (f"Router({self.name}: layer {self.layer}, {self.family}, "
                f"top-{self.num_topk} of {self.num_experts}, {self.scoring})")


def _selects_beyond_topk(gate):
    method = getattr(gate, "topk_method", "greedy")
    groups = getattr(gate, "n_group", 1) or 1
    limited = getattr(gate, "topk_group", groups) or groups
    return (method not in ("greedy", None) or limited < groups
            or hasattr(gate, "e_score_correction_bias"))


def _gate_weight(gate):
    w = getattr(gate, "weight", None)
    if not isinstance(w, torch.Tensor) or w.dim() != 2:
        raise CaptureError(f"router {type(gate).__name__} has no 2-D weight [experts, hidden]")
    return w


def find_routers(model, top_k=None):
    """Returns the Routers of `model`, ascending by layer.

    top_k overrides the number of selected experts where the block does not
    say (block.top_k, gate.top_k, then config.num_experts_per_tok).
    Raises CaptureError when there is none, or a block is not under layers.N.
    """
    config = getattr(model, "config", None)
    routers = []
    for name, block in model.named_modules():
        gate = getattr(block, "gate", None)
        if not isinstance(gate, nn.Module) or getattr(block, "experts", None) is None:
            continue
        m = _LAYER_RE.search(name)
        if not m:
            raise CaptureError(f"MoE block {name} ({type(block).__name__}) is not under layers.N")
        num_experts = _gate_weight(gate).shape[0]
        k = (top_k or getattr(block, "top_k", None) or getattr(gate, "top_k", None)
             or getattr(config, "num_experts_per_tok", None))
        if not k:
            raise CaptureError(f"{name}: cannot tell top-k; pass --top-k")
        scoring = getattr(gate, "scoring_func", "softmax")
        if scoring not in ("softmax", "sigmoid"):
            raise CaptureError(f"{name}: unsupported scoring_func {scoring!r}")
        routers.append(Router(name, int(m.group(1)), block, gate, num_experts, int(k), scoring))
    if not routers:
        raise CaptureError(
            f"no MoE router found in {type(model).__name__}: expected modules with a `gate` "
            "and `experts` under layers.N (OLMoE, Qwen-MoE, Mixtral, Qwen3-MoE, DeepSeek-MoE)")
    routers.sort(key=lambda r: r.layer)
    layers = [r.layer for r in routers]
    if len(set(layers)) != len(layers):
        raise CaptureError(f"two MoE blocks in one layer: {[r.name for r in routers]}")
    return routers


def router_rows(router, hidden, output, extra_candidates):
    """(idx [T, k + extra] int64, scores [T, k + extra] float32) on the CPU.

    hidden is the gate's input, output what it returned.
    """
    x = hidden.reshape(-1, hidden.shape[-1])
    selected = None
    if isinstance(router.gate, nn.Linear) and torch.is_tensor(output):
        logits = output.reshape(-1, router.num_experts)
    else:
        w = _gate_weight(router.gate)
        logits = F.linear(x.to(w.dtype), w, getattr(router.gate, "bias", None))
        if isinstance(output, (tuple, list)):
            ints = [t for t in output if torch.is_tensor(t) and not t.is_floating_point()]
            if ints:
                selected = ints[0].reshape(x.shape[0], -1).long()
    if selected is None and router.gate_selects:
        raise CaptureError(f"{router.name}: the router does not pick the top-k by score "
                           "(group-limited or bias-corrected) and does not return its choice")
    logits = logits.float()
    scores = torch.sigmoid(logits) if router.scoring == "sigmoid" else logits.softmax(dim=-1)
    if selected is None:
        sel_scores, sel = scores.topk(router.num_topk, dim=-1)
    else:
        sel_scores, order = torch.sort(scores.gather(1, selected), dim=1, descending=True,
                                       stable=True)
        sel = selected.gather(1, order)
    if extra_candidates == 0:
        return sel.cpu(), sel_scores.cpu()
    rest = scores.scatter(1, sel, float("-inf"))
    cand_scores, cand = rest.topk(extra_candidates, dim=-1)
    cand_scores = _clamp_ties(router, sel_scores[:, -1:], cand_scores)
    return torch.cat([sel, cand], 1).cpu(), torch.cat([sel_scores, cand_scores], 1).cpu()


def _clamp_ties(router, lowest, cand_scores):
    excess = cand_scores - lowest
    if bool((excess > _TIE_TOLERANCE * lowest).any()):
        raise CaptureError(
            f"{router.name}: a candidate scores above a selected expert: the router does not "
            "pick the top-k by score, so there are no next-best candidates; use --candidates 0")
    return torch.minimum(cand_scores, lowest)


class RouterCapture:
    """Hooks every router of a model and streams its decisions into a TraceWriter.

    Use: attach(), then per batch begin_batch(attention_mask), run the model
    (forward or generate), end_batch(); detach() at the end. The writer must
    have num_candidates = num_topk + extra_candidates.
    """

    def __init__(self, routers, writer, extra_candidates, record_prefill=True):
        self.routers = routers
        self.writer = writer
        self.extra_candidates = extra_candidates
        self.record_prefill = record_prefill
        self._handles = []
        self._next_token_id = 0
        self._mask = None
        self._recording = True
        self.num_forwards = 0     # forward passes seen, every batch
        self.num_steps = 0        # forward passes written, each one step

    def attach(self):
        for router in self.routers:
            self._handles.append(router.gate.register_forward_hook(self._hook(router)))
        return self

    def detach(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def begin_batch(self, attention_mask, first_sequence_id):
        """attention_mask: [B, S], 0 at padding. Sequence ids start at first_sequence_id."""
        self._mask = attention_mask.detach().to("cpu", torch.bool)
        self._first_sequence_id = first_sequence_id
        self._forward = -1        # index of the forward pass within the batch
        self._last_layer = None

    def end_batch(self):
        self._mask = None

    def _hook(self, router):
        def hook(module, inputs, output):
            self._on_gate(router, inputs[0], output)
        return hook

    def _on_gate(self, router, hidden, output):
        if self._mask is None:
            raise CaptureError(f"{router.name}: router called outside begin_batch()/end_batch()")
        if self._last_layer is None or router.layer <= self._last_layer:
            self._start_forward()
        self._last_layer = router.layer
        idx, scores = router_rows(router, hidden, output, self.extra_candidates)
        rows, token_ids, seq_ids = self._tokens
        if idx.shape[0] != self._num_positions:
            raise CaptureError(f"{router.name}: {idx.shape[0]} tokens routed, expected "
                               f"{self._num_positions} in forward pass {self._forward}")
        if not self._recording:
            return
        idx, scores = idx[rows], scores[rows]
        self.writer.add_rows(router.layer, token_ids, seq_ids, idx.tolist(), scores.tolist())

    # Assigns token ids to the routed positions of a new forward pass.
    def _start_forward(self):
        self._forward += 1
        self.num_forwards += 1
        self._recording = self._forward > 0 or self.record_prefill
        if self._recording:
            self.writer.set_step(self.num_steps)
            self.num_steps += 1
        batch, seq = self._mask.shape
        if self._forward == 0:
            valid = self._mask.reshape(-1)
            self._num_positions = batch * seq
        else:  # a decode step: one new token per row
            valid = torch.ones(batch, dtype=torch.bool)
            seq = 1
            self._num_positions = batch
        rows = valid.nonzero().reshape(-1)
        n = rows.numel()
        token_ids = list(range(self._next_token_id, self._next_token_id + n))
        self._next_token_id += n
        seq_ids = [self._first_sequence_id + int(r) // seq for r in rows]
        self._tokens = (rows, token_ids, seq_ids)
