#!/usr/bin/env python3
"""Writes a synthetic vLLM-style expert-routing log (JSON lines) for the
import benchmark.

Shape (sim/trace/importer.h, "vllm"): a meta line, then route rows
{"type": "route", "req_id": "cmpl-N", "token_idx", "layer", "topk_ids",
"topk_weights"}. OLMoE-like: 16 layers, top-8 of 64 experts. A warm-up
request of 4 tokens comes first (drop it with --skip-rows 4); then forward
steps of 8 requests x 256 tokens, each step logging every layer for its 2,048
tokens, request ids as strings. One routing entry = one route row (one token
of one layer with its top-8). Expert picks cycle through a pool of 4,096
random rows (seed 1): the importer's cost does not depend on the values.

With --per-batch the log is what a per-batch vLLM logger writes: token_idx
counts the rows of one forward batch (0..2,047, restarting with every step)
and req_id is "run" for the whole run, so `epsim import` finds the steps by
the repeats.

usage: make_log.py OUT.jsonl [ROWS] [--per-batch]   (ROWS default
10,000,000, rounded up to whole steps; the warm-up rows come on top).
Standard library only.
"""
import argparse
import random
import sys

LAYERS = 16
EXPERTS = 64
TOPK = 8
REQS_PER_STEP = 8
TOKENS_PER_REQ = 256
WARMUP_TOKENS = 4


def pool(rng, size=4096):
    rows = []
    for _ in range(size):
        ids = rng.sample(range(EXPERTS), TOPK)
        w = sorted((rng.random() for _ in range(TOPK)), reverse=True)
        s = sum(w)
        rows.append('"topk_ids": [%s], "topk_weights": [%s]}\n' % (
            ", ".join(map(str, ids)), ", ".join("%.9g" % (x / s) for x in w)))
    return rows


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        epilog="The log's shape: see the top of make_log.py.")
    parser.add_argument("out", metavar="OUT.jsonl", help="log file to write")
    parser.add_argument("rows", metavar="ROWS", type=int, nargs="?", default=10_000_000,
                        help="route rows, rounded up to whole steps (default %(default)s)")
    parser.add_argument("--per-batch", action="store_true",
                        help="token_idx counts rows within each batch, req_id is constant")
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    out_path = args.out
    want = args.rows
    per_step = LAYERS * REQS_PER_STEP * TOKENS_PER_REQ
    steps = -(-want // per_step)
    picks = pool(random.Random(1))
    n = 0
    with open(out_path, "w") as out:
        out.write('{"type": "meta", "model": "synthetic-olmoe", "num_experts": %d, '
                  '"top_k": %d, "num_layers": %d}\n' % (EXPERTS, TOPK, LAYERS))
        for layer in range(LAYERS):
            out.write("".join(
                '{"type": "route", "req_id": "warmup", "token_idx": %d, "layer": %d, %s'
                % (t, layer, picks[t]) for t in range(WARMUP_TOKENS)))
        for step in range(steps):
            for layer in range(LAYERS):
                lines = []
                for r in range(REQS_PER_STEP):
                    req = step * REQS_PER_STEP + r
                    head = ('{"type": "route", "req_id": "run", ' if args.per_batch
                            else '{"type": "route", "req_id": "cmpl-%d", ' % req)
                    for t in range(TOKENS_PER_REQ):
                        n += 1
                        idx = r * TOKENS_PER_REQ + t if args.per_batch else t
                        lines.append('%s"token_idx": %d, "layer": %d, %s'
                                     % (head, idx, layer, picks[(n * 7919) & 4095]))
                out.write("".join(lines))
    print(f"make_log.py: wrote {out_path}: {steps * per_step} route rows "
          f"(+{WARMUP_TOKENS * LAYERS} warm-up), {steps} steps", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
