"""Tests experiments/capture/sglang_counts.py without PyTorch.

SGLang's per-rank CSV dumps become the exact summed load file `epsim synth
--load` reads, with the same answers as epsim's own CSV reader; bad input
is exit 2 with file:line and no output file. The two .pt dump shapes are
checked through the conversion functions on stand-in tensors (objects with
.shape and .tolist()); sglang_counts_torch_test.py loads real torch files.
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

import capture_test_util as util

util.parse_test_args(__doc__)

import sglang_counts  # noqa: E402

SCRIPT = sglang_counts.__file__
HEADER = "layer_id,expert_id,count\n"


class FakeTensor:
    """What the converter uses of a torch tensor: .shape and .tolist()."""

    def __init__(self, rows):
        self.rows = rows
        shape, x = [], rows
        while isinstance(x, list):
            shape.append(len(x))
            x = x[0] if x else None
        self.shape = tuple(shape)

    def tolist(self):
        return json.loads(json.dumps(self.rows))  # a fresh copy, as torch gives


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, check=False)


class SglangCountsCsvTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        # Rank 0: layers 3 and 5; rank 1: layer 3 only; rows unsorted, as SGLang writes them.
        self.r0 = self.write("expert_distribution_rank0_timestamp1744347750.37.csv",
                             HEADER + "3,3,7\n3,0,10\n5,2,4\n3,1,1\n")
        self.r1 = self.write("expert_distribution_rank1_timestamp1744347750.01.csv",
                             HEADER + "3,1,20\n3,3,2\n")
        self.out = self.path("load.json")

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def write(self, name, text):
        with open(self.path(name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return self.path(name)

    def test_sums_rank_files_with_absent_experts_zero(self):
        r = run(self.r0, self.r1, "--num-experts", "4", "-o", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.out, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["layers"], [3, 5])
        self.assertEqual(doc["load"], [[10, 21, 0, 9], [0, 0, 4, 0]])
        self.assertEqual(doc["num_experts"], 4)
        self.assertIn("wrote", r.stderr)
        self.assertIn("2 layers (3..5), 4 experts, 44 picks", r.stderr)

    def test_output_feeds_epsim_synth_like_the_csv_files_themselves(self):
        self.assertEqual(run(self.r0, self.r1, "--num-experts", "64", "-o", self.out).returncode, 0)
        common = ["synth", "--model", "olmoe-1b-7b", "--layers", "3,5", "--tokens", "64",
                  "--fit-tokens", "256", "--fit-iterations", "1"]
        direct = util.epsim(*common, "--load", f"{self.r0},{self.r1}", "-o", self.path("a.trace"))
        converted = util.epsim(*common, "--load", self.out, "-o", self.path("b.trace"))
        self.assertEqual(direct.returncode, 0, direct.stderr)
        self.assertEqual(converted.returncode, 0, converted.stderr)
        tail = lambda out: next(l for l in out.splitlines() if l.startswith("# load:")).split("): ")[1]
        self.assertEqual(tail(direct.stdout), "layers 3, 5, 44 picks")
        self.assertEqual(tail(converted.stdout), "layers 3, 5, 44 picks")
        self.assertIn("(JSON)", converted.stdout)

    def test_bad_input_names_file_and_line_and_writes_nothing(self):
        cases = [
            ("3,4,1\n", ":3: expert 4 >= num_experts 4"),
            ("3,1,-5\n", ":3: count '-5' is negative"),
            ("3,1,2.5\n", ":3: count '2.5' is not a non-negative integer"),
            ("UNKNOWN,1,2\n", ":3: layer_id 'UNKNOWN' is not a non-negative integer"),
            ("3,0,2\n", ":3: layer 3 expert 0 listed twice (first on line 2)"),
            ("3,1\n", ":3: 2 fields, expected 3 (layer_id,expert_id,count)"),
            ("\n", ":3: empty line"),
            ("3,1,39", ":3: truncated line (no newline at its end: the file was cut)"),
        ]
        for tail, expected in cases:
            bad = self.write("bad.csv", HEADER + "3,0,1\n" + tail)
            r = run(self.r0, bad, "--num-experts", "4", "-o", self.out)
            self.assertEqual(r.returncode, 2, tail)
            self.assertIn(bad + expected, r.stderr)
            self.assertFalse(os.path.exists(self.out), tail)
        bad = self.write("header.csv", "layer,expert,count\n0,0,1\n")
        r = run(bad, "--num-experts", "4", "-o", self.out)
        self.assertEqual(r.returncode, 2)
        self.assertIn(bad + ":1: header 'layer,expert,count', expected 'layer_id,expert_id,count'", r.stderr)
        only_header = self.write("idle.csv", HEADER)
        r = run(only_header, "--num-experts", "4", "-o", self.out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no counts", r.stderr)
        self.assertFalse(os.path.exists(self.out))

    @unittest.skipIf(importlib.util.find_spec("torch") is not None, "torch is installed")
    def test_a_pt_dump_without_torch_says_what_to_install(self):
        dump = self.write("expert_distribution_recorder_1750000000.1.pt", "PK\x03\x04 not really")
        r = run(dump, "-o", self.out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs torch to read .pt dumps: apt install python3-torch", r.stderr)
        self.assertFalse(os.path.exists(self.out))

    def test_usage_errors_exit_1(self):
        r = run(self.r0, "-o", self.out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--num-experts is needed", r.stderr)
        self.assertEqual(run(self.r0, "--num-experts", "0", "-o", self.out).returncode, 1)
        self.assertEqual(run("-o", self.out).returncode, 1)
        self.assertFalse(os.path.exists(self.out))
        h = run("--help")
        self.assertEqual(h.returncode, 0)
        self.assertIn("--num-experts", h.stdout)


class SglangCountsDumpShapesTest(unittest.TestCase):
    def test_stat_dump_sums_passes_and_keeps_layers_with_counts(self):
        # 2 passes x 3 layers x 4 experts; layer 0 is dense (all 0, dropped).
        logical = [[[0, 0, 0, 0], [1, 2, 0, 3], [0, 0, 5, 0]],
                   [[0, 0, 0, 0], [4, 0, 0, 1], [0, 0, 0, 0]]]
        counts = sglang_counts.Counts()
        note = sglang_counts.add_torch_dump({"rank": 0, "logical_count": FakeTensor(logical)}, counts, "d.pt")
        self.assertEqual(counts.num_experts, 4)
        self.assertEqual(counts.per_layer, {1: {0: 5, 1: 2, 3: 4}, 2: {2: 5}})
        self.assertIn("2 passes x 3 layers x 4 experts", note)
        flat = sglang_counts.Counts()
        sglang_counts.add_torch_dump({"logical_count": FakeTensor(logical[0])}, flat, "d.pt")
        self.assertEqual(flat.per_layer, {1: {0: 1, 1: 2, 3: 3}, 2: {2: 5}})

    def test_per_pass_records_map_physical_to_logical(self):
        # 2 layers, 5 physical slots over 4 logical experts: slot 4 replicates
        # expert 1 in layer 0 and expert 3 in layer 1.
        mapping = [[0, 1, 2, 3, 1], [0, 1, 2, 3, 3]]
        records = [{"forward_pass_id": 0, "global_physical_count": FakeTensor([[1, 2, 0, 0, 3], [0, 0, 0, 1, 1]])},
                   {"forward_pass_id": 1, "global_physical_count": FakeTensor([[0, 1, 0, 0, 0], [2, 0, 0, 0, 4]])}]
        counts = sglang_counts.Counts()
        sglang_counts.add_torch_dump({"records": records, "last_physical_to_logical_map": FakeTensor(mapping)},
                                     counts, "r.pt")
        self.assertEqual(counts.num_experts, 4)
        self.assertEqual(counts.per_layer, {0: {0: 1, 1: 6}, 1: {0: 2, 3: 6}})

    def test_bad_dumps_are_input_errors(self):
        bad = [
            ({"logical_count": FakeTensor([1, 2, 3])}, "shape [3]"),
            ({"logical_count": FakeTensor([[1, -2]])}, "logical_count[0][0][1] = -2"),
            ({"logical_count": FakeTensor([[1, 0.5]])}, "= 0.5"),
            ({"something": 1}, "not an SGLang expert-distribution dump"),
            ({"records": [{"x": 1}], "last_physical_to_logical_map": FakeTensor([[0, 1]])},
             "records[0] has no global_physical_count"),
            ({"records": [{"global_physical_count": FakeTensor([[1, 2, 3]])}],
              "last_physical_to_logical_map": FakeTensor([[0, 1]])}, "expected [1, 2] as the map"),
        ]
        for obj, expected in bad:
            with self.assertRaises(sglang_counts.InputError) as e:
                sglang_counts.add_torch_dump(obj, sglang_counts.Counts(), "d.pt")
            self.assertIn(expected, str(e.exception))
            self.assertTrue(str(e.exception).startswith("d.pt: "))
        counts = sglang_counts.Counts(8)
        with self.assertRaises(sglang_counts.InputError) as e:
            sglang_counts.add_torch_dump({"logical_count": FakeTensor([[1, 2]])}, counts, "d.pt")
        self.assertIn("2 experts, but 8 elsewhere", str(e.exception))


if __name__ == "__main__":
    unittest.main()
