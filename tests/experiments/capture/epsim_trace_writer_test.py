"""Tests experiments/capture/epsim_trace_writer.py against the C++ reader.

Round trip: a trace written in Python must pass `epsim trace validate`, show
in `epsim trace show` and read back in Python unchanged.
"""

import math
import os
import random
import sys
import tempfile
import unittest

import capture_test_util as util

util.parse_test_args(__doc__)
util.require_protobuf()

import epsim_trace_writer as etw  # noqa: E402
from google.protobuf.internal.encoder import _VarintBytes  # noqa: E402

NUM_EXPERTS, NUM_TOPK, NUM_CANDIDATES = 16, 4, 6


def routing_row(rng):
    """A valid row: 4 selected experts by descending score, then 2 candidates."""
    experts = rng.sample(range(NUM_EXPERTS), NUM_CANDIDATES)
    scores = sorted((rng.random() for _ in range(NUM_CANDIDATES)), reverse=True)
    scores = [float(f"{s:.6f}") for s in scores]  # exact in float32 order
    return experts, scores


class TraceWriterTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "py.trace")

    def tearDown(self):
        self.dir.cleanup()

    def writer(self, **kw):
        return etw.TraceWriter(self.path, model="olmoe-1b-7b", num_experts=NUM_EXPERTS,
                               num_topk=NUM_TOPK, num_candidates=NUM_CANDIDATES,
                               description="unit test", **kw)

    # Layer 7 gets 5000 tokens (two records, split at 4096), layer 2 gets 10,
    # added after layer 7 so the header must sort them.
    def write_sample(self):
        rng = random.Random(5)
        rows = {7: [], 2: []}
        with self.writer() as w:
            for layer, n in ((7, 5000), (2, 10)):
                for t in range(n):
                    idx, scores = routing_row(rng)
                    w.add(layer, t, t // 100, idx, scores)
                    rows[layer].append((t, t // 100, idx, scores))
        return rows

    def test_steps_are_records_of_their_own_and_epsim_reads_them(self):
        rng = random.Random(3)
        with self.writer() as w:
            for step, n in ((0, 6), (1, 2), (4, 3)):
                w.set_step(step)
                for layer in (0, 1):
                    for t in range(n):
                        idx, scores = routing_row(rng)
                        w.add(layer, 100 * step + t, 0, idx, scores)
            with self.assertRaises(etw.TraceError):
                w.set_step(3)
        out = util.epsim("trace", "validate", self.path)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("2 layers, 5 forward steps, 6 records, 22 token rows", out.stdout)
        header, records = etw.read_trace(self.path)
        self.assertEqual(header.num_steps, 5)
        self.assertEqual([(r.layer, r.step, len(r.token_ids)) for r in records],
                         [(0, 0, 6), (1, 0, 6), (0, 1, 2), (1, 1, 2), (0, 4, 3), (1, 4, 3)])

    def test_a_flipped_byte_is_caught_by_the_checksum(self):
        self.write_sample()
        with open(self.path, "r+b") as f:
            data = bytearray(f.read())
            data[-100] ^= 0x01  # inside the last record's expert ids
            f.seek(0)
            f.write(data)
        out = util.epsim("trace", "validate", self.path)
        self.assertEqual(out.returncode, 2, out.stdout)
        self.assertIn("checksum mismatch", out.stderr)
        header, records = etw.read_trace(self.path)
        with self.assertRaises(etw.TraceError):
            list(records)

    def test_round_trip_passes_epsim_validate_and_reads_back(self):
        rows = self.write_sample()
        out = util.epsim("trace", "validate", self.path)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("valid: format version 2, 2 layers, 1 forward step, 3 records, "
                      "5010 token rows", out.stdout)

        header, records = etw.read_trace(self.path)
        self.assertEqual(header.version, 2)
        self.assertEqual(header.num_steps, 1)
        self.assertEqual((header.num_experts, header.num_topk, header.num_candidates),
                         (NUM_EXPERTS, NUM_TOPK, NUM_CANDIDATES))
        self.assertEqual([(i.layer, i.num_tokens) for i in header.layers], [(2, 10), (7, 5000)])
        self.assertEqual(header.num_layers, 2)
        self.assertEqual(header.provenance.source_format, "capture")
        self.assertEqual(header.provenance.tool, "experiments/capture")
        read = {2: [], 7: []}
        sizes = []
        for rec in records:
            sizes.append((rec.layer, len(rec.token_ids)))
            c = NUM_CANDIDATES
            for t in range(len(rec.token_ids)):
                read[rec.layer].append((rec.token_ids[t], rec.sequence_ids[t],
                                        list(rec.topk_idx[t * c:(t + 1) * c]),
                                        list(rec.topk_weights[t * c:(t + 1) * c])))
        self.assertEqual(sizes, [(7, 4096), (2, 10), (7, 904)])
        for layer in (2, 7):
            self.assertEqual([r[:3] for r in read[layer]], [r[:3] for r in rows[layer]])
            for got, want in zip(read[layer], rows[layer]):
                for g, w in zip(got[3], want[3]):
                    self.assertTrue(math.isclose(g, w, rel_tol=1e-6))

    def test_epsim_trace_show_prints_the_header(self):
        self.write_sample()
        out = util.epsim("trace", "show", self.path)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("olmoe-1b-7b", out.stdout)
        self.assertIn("capture", out.stdout)

    def test_epsim_validate_rejects_candidate_above_selection(self):
        # The writer checks rows as the C++ writer does; score order is the
        # validator's job, and it must see this file as broken.
        with self.writer() as w:
            w.add(0, 0, 0, [0, 1, 2, 3, 4, 5], [0.5, 0.2, 0.1, 0.05, 0.3, 0.01])
        out = util.epsim("trace", "validate", self.path)
        self.assertEqual(out.returncode, 2)
        self.assertIn("above the lowest selected", out.stderr + out.stdout)

    def test_failed_write_leaves_no_file(self):
        with self.assertRaises(RuntimeError):
            with self.writer() as w:
                idx, scores = routing_row(random.Random(1))
                for t in range(5000):
                    w.add(0, t, 0, idx, scores)
                raise RuntimeError("model crashed")
        self.assertEqual(os.listdir(self.dir.name), [])

    def test_rejects_bad_rows_naming_layer_and_token(self):
        w = self.writer()
        cases = [
            ([0, 1, 2, 16, 4, 5], [0.6, 0.5, 0.4, 0.3, 0.2, 0.1], "expert 16 >= num_experts 16"),
            ([0, 1, 1, 3, 4, 5], [0.6, 0.5, 0.4, 0.3, 0.2, 0.1], "selected twice"),
            ([0, 1, 2, 3, 4, 5], [0.6, float("nan"), 0.4, 0.3, 0.2, 0.1], "not finite"),
            ([0, 1, 2, 3], [0.6, 0.5, 0.4, 0.3], "num_candidates is 6"),
        ]
        for idx, scores, message in cases:
            with self.assertRaisesRegex(etw.TraceError, f"layer 3, token 9: .*{message}"):
                w.add(3, 9, 0, idx, scores)
        w.abort()
        self.assertEqual(os.listdir(self.dir.name), [])

    def test_rejects_bad_header(self):
        with self.assertRaisesRegex(etw.TraceError, "num_topk"):
            etw.TraceWriter(self.path, model="m", num_experts=4, num_topk=5)

    def test_varint_matches_protobuf(self):
        for n in (0, 1, 127, 128, 300, 16383, 16384, 2**32, 2**63 - 1):
            self.assertEqual(etw.encode_varint(n), _VarintBytes(n))

    def test_read_trace_reports_truncation(self):
        self.write_sample()
        with open(self.path, "rb") as f:
            data = f.read()
        with open(self.path, "wb") as f:
            f.write(data[:-10])
        header, records = etw.read_trace(self.path)
        with self.assertRaisesRegex(etw.TraceError, "record 3: truncated"):
            list(records)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
