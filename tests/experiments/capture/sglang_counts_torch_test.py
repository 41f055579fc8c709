"""Tests experiments/capture/sglang_counts.py on tiny torch dumps of both
shapes SGLang's newer recorder saves (made here with torch.save). Needs
PyTorch; skipped without it.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import capture_test_util as util

util.parse_test_args(__doc__)
util.require_torch()

import torch  # noqa: E402

import sglang_counts  # noqa: E402


def run(*args):
    return subprocess.run([sys.executable, sglang_counts.__file__, *args],
                          capture_output=True, text=True, check=False)


class SglangCountsTorchTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.out = self.path("load.json")

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def load(self):
        with open(self.out, encoding="utf-8") as f:
            return json.load(f)

    def test_stat_dump_sums_buffered_passes(self):
        # "stat" mode: [passes, layers, logical experts] int32, layer 0 dense.
        logical = torch.zeros((3, 4, 8), dtype=torch.int32)
        logical[0, 1, 2] = 5
        logical[1, 1, 2] = 4
        logical[2, 1, 7] = 1
        logical[1, 3, 0] = 6
        path = self.path("expert_distribution_recorder_1750000000.5.pt")
        torch.save({"rank": 0, "logical_count": logical, "average_utilization_rate_over_window": None}, path)
        r = run(path, "-o", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = self.load()
        self.assertEqual(doc["layers"], [1, 3])
        self.assertEqual(doc["load"], [[0, 0, 9, 0, 0, 0, 0, 1], [6, 0, 0, 0, 0, 0, 0, 0]])
        self.assertEqual(doc["num_experts"], 8)
        self.assertIn("3 passes x 4 layers x 8 experts", r.stderr)
        # The same dump with --num-experts from another model is bad input.
        r = run(path, "--num-experts", "64", "-o", self.out + "2")
        self.assertEqual(r.returncode, 2)
        self.assertIn("8 experts, but 64 elsewhere", r.stderr)

    def test_per_pass_dumps_of_two_ranks_and_a_csv_are_summed(self):
        mapping = torch.tensor([[0, 1, 2, 3, 1], [0, 1, 2, 3, 3]])
        for rank, counts in ((0, [[1, 2, 0, 0, 3], [0, 0, 0, 1, 1]]), (1, [[0, 1, 0, 0, 0], [2, 0, 0, 0, 4]])):
            rec = {"forward_pass_id": 7, "rank": rank, "gatherer_key": "primary",
                   "global_physical_count": torch.tensor(counts, dtype=torch.int32)}
            torch.save({"records": [rec], "last_physical_to_logical_map": mapping},
                       self.path(f"expert_distribution_recorder_1750000000.5_{rank}.pt"))
        with open(self.path("rank0.csv"), "w", encoding="utf-8") as f:
            f.write("layer_id,expert_id,count\n1,2,10\n")
        r = run(self.path("expert_distribution_recorder_1750000000.5_0.pt"),
                self.path("expert_distribution_recorder_1750000000.5_1.pt"), self.path("rank0.csv"),
                "-o", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.load()["load"], [[1, 6, 0, 0], [2, 0, 10, 6]])

    def test_a_torch_file_of_something_else_or_cut_is_bad_input(self):
        other = self.path("other.pt")
        torch.save({"weights": torch.ones(2)}, other)
        r = run(other, "-o", self.out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not an SGLang expert-distribution dump", r.stderr)
        with open(other, "rb") as f:
            data = f.read()
        cut = self.path("cut.pt")
        with open(cut, "wb") as f:
            f.write(data[:len(data) // 2])
        r = run(cut, "-o", self.out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read as a torch dump", r.stderr)
        self.assertFalse(os.path.exists(self.out))


if __name__ == "__main__":
    unittest.main()
