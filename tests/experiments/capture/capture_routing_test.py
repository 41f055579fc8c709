"""Tests the parts of experiments/capture/capture_routing.py that need no model:
prompt reading, the token budget, padding, header names, and the exit code
and message when PyTorch or transformers is missing.
"""

import os
import subprocess
import sys
import tempfile
import unittest

import capture_test_util as util

util.parse_test_args(__doc__)

import capture_routing as cr  # noqa: E402

SCRIPT = cr.__file__


class CaptureRoutingTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run_script(self, *args, pythonpath_first=None):
        env = dict(os.environ)
        if pythonpath_first:
            env["PYTHONPATH"] = pythonpath_first + os.pathsep + env.get("PYTHONPATH", "")
        return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                              env=env, check=False)

    def test_missing_torch_or_transformers_exits_2_with_install_hint(self):
        # Shadow both packages with ones that fail to import, as on a machine
        # without them, whatever this machine has.
        fake = os.path.join(self.dir.name, "fake")
        for name in ("torch", "transformers"):
            os.makedirs(os.path.join(fake, name))
            self.write(os.path.join("fake", name, "__init__.py"),
                       f"raise ImportError('No module named {name}')\n")
        prompts = self.write("p.txt", "hello\n")
        out_path = os.path.join(self.dir.name, "out.trace")
        out = self.run_script("--model", "allenai/OLMoE-1B-7B-0924", "--prompts", prompts,
                              "-o", out_path, pythonpath_first=fake)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("missing package", out.stderr)
        self.assertIn("pip install torch transformers", out.stderr)
        self.assertFalse(os.path.exists(out_path))

    def test_help_and_usage_errors(self):
        self.assertEqual(self.run_script("--help").returncode, 0)
        out = self.run_script("--model", "m", "-o", "x.trace")  # no --prompts/--dataset
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("--prompts", out.stderr)
        prompts = self.write("p.txt", "hello\n")
        out = self.run_script("--model", "m", "--prompts", prompts, "--decode-only", "-o", "x.trace")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("--decode-only needs --decode-steps", out.stderr)
        self.assertFalse(os.path.exists("x.trace"))

    def test_read_prompts_text_and_json_lines(self):
        path = self.write("p.txt", 'first prompt\n\n{"text": "second"}\nthird\n')
        self.assertEqual(cr.read_prompts(path, "text"), ["first prompt", "second", "third"])
        bad = self.write("bad.jsonl", '{"prompt": "x"}\n')
        with self.assertRaisesRegex(cr.InputError, "bad.jsonl:1: no 'text' field"):
            cr.read_prompts(bad, "text")

    def test_token_budget_cuts_prompts_and_total(self):
        prompts = ["a" * 5, "b" * 10, "c" * 4, "d" * 4]
        seqs = cr.token_budget(prompts, lambda t: [ord(ch) for ch in t], max_tokens=14,
                               max_seq_len=8)
        self.assertEqual([len(s) for s in seqs], [5, 8, 1])

    def test_pad_batch_right_and_left(self):
        ids, mask = cr.pad_batch([[1, 2, 3], [4]], pad_id=0, left=False)
        self.assertEqual((ids, mask), ([[1, 2, 3], [4, 0, 0]], [[1, 1, 1], [1, 0, 0]]))
        ids, mask = cr.pad_batch([[1, 2, 3], [4]], pad_id=0, left=True)
        self.assertEqual((ids, mask), ([[1, 2, 3], [0, 0, 4]], [[1, 1, 1], [0, 0, 1]]))

    def test_header_model_names_follow_models_folder(self):
        self.assertEqual(cr.header_model_name("allenai/OLMoE-1B-7B-0924"), "olmoe-1b-7b")
        self.assertEqual(cr.header_model_name("deepseek-ai/deepseek-moe-16b-base"),
                         "deepseek-moe-16b")
        self.assertEqual(cr.header_model_name("/data/ckpt/My-MoE/"), "my-moe")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
