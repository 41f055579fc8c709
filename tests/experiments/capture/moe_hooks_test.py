"""Tests experiments/capture/moe_hooks.py on tiny random MoE models (tiny_moe.py).

The hooks must record exactly the routing each block applied, the next
candidates beyond it by descending score, no padding, and a trace that
`epsim trace validate` accepts. Needs PyTorch; skipped without it.
"""

import os
import sys
import tempfile
import unittest

import capture_test_util as util

util.parse_test_args(__doc__)
util.require_torch()
util.require_protobuf()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import capture_routing  # noqa: E402
import epsim_trace_writer as etw  # noqa: E402
import moe_hooks  # noqa: E402
from tiny_moe import TinyMoeForCausalLM  # noqa: E402

NUM_EXPERTS, TOP_K, EXTRA = 16, 4, 3
# Three prompts of 7, 4 and 6 tokens, right padded to 7.
LENGTHS = [7, 4, 6]


def batch(lengths, left=False, seed=3):
    g = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.randint(1, 50, (len(lengths), width), generator=g)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, n in enumerate(lengths):
        if left:
            mask[row, width - n:] = 1
        else:
            mask[row, :n] = 1
    return ids * mask, mask


def read_steps(path):
    """num_steps of the header, and {layer: [forward step of each row]}."""
    header, records = etw.read_trace(path)
    steps = {}
    for rec in records:
        steps.setdefault(rec.layer, []).extend([rec.step] * len(rec.token_ids))
    return header.num_steps, steps


def read_rows(path):
    """{layer: [(token_id, sequence_id, idx, scores)]} of a trace file."""
    header, records = etw.read_trace(path)
    c = header.num_candidates
    rows = {}
    for rec in records:
        for t in range(len(rec.token_ids)):
            rows.setdefault(rec.layer, []).append(
                (rec.token_ids[t], rec.sequence_ids[t], list(rec.topk_idx[t * c:(t + 1) * c]),
                 list(rec.topk_weights[t * c:(t + 1) * c])))
    return header, rows


class MoeHooksTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "tiny.trace")

    def tearDown(self):
        self.dir.cleanup()

    # Runs one prefill of `lengths` (plus decode_steps one-token forwards) with
    # the hooks attached; returns the model's own decisions per layer and pass.
    def capture(self, model, lengths=LENGTHS, decode_steps=0, extra=EXTRA, record_prefill=True):
        routers = moe_hooks.find_routers(model)
        decisions = {layer: [] for layer in model.moe_blocks()}
        with etw.TraceWriter(self.path, model="tiny", num_experts=NUM_EXPERTS, num_topk=TOP_K,
                             num_candidates=TOP_K + extra) as writer:
            hooks = moe_hooks.RouterCapture(routers, writer, extra,
                                            record_prefill=record_prefill).attach()
            ids, mask = batch(lengths)
            hooks.begin_batch(mask, first_sequence_id=10)
            with torch.no_grad():
                model(ids, attention_mask=mask)
                self.keep(model, decisions)
                for step in range(decode_steps):
                    model(torch.full((len(lengths), 1), 7 + step))
                    self.keep(model, decisions)
            hooks.end_batch()
            hooks.detach()
        return decisions, mask

    @staticmethod
    def keep(model, decisions):
        for layer, block in model.moe_blocks().items():
            decisions[layer].append(block.last_topk_idx.clone())

    def check_against_model(self, model, mask, decisions, layers):
        header, rows = read_rows(self.path)
        self.assertEqual(sorted(rows), layers)
        valid = mask.reshape(-1).bool()
        seq_of_position = (torch.arange(mask.shape[0]) + 10).repeat_interleave(mask.shape[1])
        for layer in layers:
            want = decisions[layer][0][valid].tolist()
            got = rows[layer]
            self.assertEqual(len(got), int(mask.sum()), "padding must be dropped")
            self.assertEqual([r[0] for r in got], list(range(int(mask.sum()))))
            self.assertEqual([r[1] for r in got], seq_of_position[valid].tolist())
            self.assertEqual([r[2][:TOP_K] for r in got], want)
            for _, _, idx, scores in got:
                self.assertEqual(scores, sorted(scores, reverse=True))
                self.assertEqual(len(set(idx)), TOP_K + EXTRA)
        out = util.epsim("trace", "validate", self.path)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return rows

    def test_linear_gate_records_block_topk_and_next_candidates(self):
        model = TinyMoeForCausalLM("linear", norm_topk_prob=True).eval()
        decisions, mask = self.capture(model)
        rows = self.check_against_model(model, mask, decisions, [0, 1, 2])
        # The scores are the full softmax, candidates its next-best experts:
        # recompute layer 0 independently from the gate's input.
        ids, _ = batch(LENGTHS)
        with torch.no_grad():
            h = model.model.embed_tokens(ids)
            h = h + torch.tanh(model.model.layers[0].mix(h))
            probs = F.softmax(model.model.layers[0].mlp.gate(h).reshape(-1, NUM_EXPERTS), -1)
        best, order = probs[mask.reshape(-1).bool()].topk(TOP_K + EXTRA, dim=-1)
        self.assertEqual([r[2] for r in rows[0]], order.tolist())
        for (_, _, _, scores), want in zip(rows[0], best.tolist()):
            for s, w in zip(scores, want):
                self.assertAlmostEqual(s, w, places=6)

    def test_router_module_returning_indices(self):
        model = TinyMoeForCausalLM("router", seed=1).eval()
        decisions, mask = self.capture(model)
        self.check_against_model(model, mask, decisions, [0, 1, 2])

    def test_deepseek_moegate_unsorted_topk_and_dense_first_layer(self):
        model = TinyMoeForCausalLM("moegate", seed=2).eval()
        routers = moe_hooks.find_routers(model)
        self.assertEqual([(r.layer, r.family, r.num_topk) for r in routers],
                         [(1, "deepseek-moe", TOP_K), (2, "deepseek-moe", TOP_K)])
        decisions, mask = self.capture(model)
        self.check_against_model(model, mask, decisions, [1, 2])

    def test_decode_steps_add_one_token_per_sequence(self):
        model = TinyMoeForCausalLM("linear", seed=4).eval()
        decisions, mask = self.capture(model, decode_steps=2)
        _, rows = read_rows(self.path)
        n = int(mask.sum())
        for layer in (0, 1, 2):
            got = rows[layer]
            self.assertEqual(len(got), n + 2 * len(LENGTHS))
            self.assertEqual([r[0] for r in got], list(range(n + 2 * len(LENGTHS))))
            self.assertEqual([r[1] for r in got[n:]], [10, 11, 12, 10, 11, 12])
            step1 = decisions[layer][1].tolist()
            self.assertEqual([r[2][:TOP_K] for r in got[n:n + 3]], step1)
        # Each forward pass is one forward step: the prefill 0, the decodes 1, 2.
        num_steps, steps = read_steps(self.path)
        self.assertEqual(num_steps, 3)
        for layer in (0, 1, 2):
            self.assertEqual(steps[layer], [0] * n + [1] * 3 + [2] * 3)
        out = util.epsim("trace", "validate", self.path)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        show = util.epsim("trace", "show", self.path)
        self.assertIn("forward steps:  3", show.stdout)

    def test_decode_only_writes_the_decode_steps_alone(self):
        model = TinyMoeForCausalLM("linear", seed=4).eval()
        decisions, mask = self.capture(model, decode_steps=2, record_prefill=False)
        _, rows = read_rows(self.path)
        num_steps, steps = read_steps(self.path)
        n = int(mask.sum())
        self.assertEqual(num_steps, 2)
        for layer in (0, 1, 2):
            got = rows[layer]
            # The prefill's tokens took ids 0..n-1 without being written.
            self.assertEqual([r[0] for r in got], list(range(n, n + 2 * len(LENGTHS))))
            self.assertEqual([r[1] for r in got], [10, 11, 12, 10, 11, 12])
            self.assertEqual([r[2][:TOP_K] for r in got[:3]], decisions[layer][1].tolist())
            self.assertEqual([r[2][:TOP_K] for r in got[3:]], decisions[layer][2].tolist())
            self.assertEqual(steps[layer], [0] * 3 + [1] * 3)
        out = util.epsim("trace", "validate", self.path)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_capture_script_batches_with_padding(self):
        # The script's own batching (right padding, sequence ids across
        # batches), with the tiny model in place of a transformers one.
        model = TinyMoeForCausalLM("linear", seed=5).eval()
        routers = moe_hooks.find_routers(model)
        seqs = [[5, 6, 7], [8, 9], [10, 11, 12, 13], [14]]
        with etw.TraceWriter(self.path, model="tiny", num_experts=NUM_EXPERTS, num_topk=TOP_K,
                             num_candidates=TOP_K) as writer:
            hooks = moe_hooks.RouterCapture(routers, writer, 0).attach()
            capture_routing.run_batches(model, hooks, [seqs[:3], seqs[3:]], pad_id=0,
                                        device="cpu", decode_steps=0, log=lambda m: None)
        _, rows = read_rows(self.path)
        self.assertEqual([r[1] for r in rows[2]], [0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
        out = util.epsim("trace", "validate", self.path)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_group_limited_router_without_its_choice_is_refused(self):
        model = TinyMoeForCausalLM("moegate", seed=2, topk_method="group_limited_greedy").eval()
        for layer in model.model.layers[1:]:  # a gate that returns logits only
            layer.mlp.gate.forward = lambda h, g=layer.mlp.gate: F.linear(h, g.weight)
        routers = moe_hooks.find_routers(model)
        with self.assertRaisesRegex(moe_hooks.CaptureError, "does not pick the top-k"):
            with etw.TraceWriter(self.path, model="tiny", num_experts=NUM_EXPERTS,
                                 num_topk=TOP_K) as writer:
                hooks = moe_hooks.RouterCapture(routers, writer, 0).attach()
                hooks.begin_batch(torch.ones(1, 3), 0)
                with torch.no_grad():
                    model.model.layers[1].mlp.gate(torch.randn(1, 3, 16))
        self.assertFalse(os.path.exists(self.path))

    def test_model_without_router_is_an_error(self):
        with self.assertRaisesRegex(moe_hooks.CaptureError, "no MoE router found"):
            moe_hooks.find_routers(torch.nn.Sequential(torch.nn.Linear(4, 4)))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
