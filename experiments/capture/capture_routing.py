#!/usr/bin/env python3
"""Records the routing of a Hugging Face MoE model into an epsim trace.

  capture_routing.py --model allenai/OLMoE-1B-7B-0924 --prompts prompts.txt \
      --max-tokens 16384 --batch-size 8 --candidates 4 --device cuda -o olmoe.trace

Runs one prefill forward pass per batch of prompts (no generation unless
--decode-steps N), with a hook on every MoE router (moe_hooks.py), and writes
the trace format of sim/trace/FORMATS.md (epsim_trace_writer.py). Progress
goes to stderr. Exit codes: 0 ok, 1 usage, 2 bad input or missing packages.
See README.md for the families supported and how to run it on a GPU box.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

EXIT_BAD_INPUT = 2

# Hugging Face ids -> the model names of models/*.textproto, which
# `epsim simulate --trace` reads from the header.
KNOWN_MODELS = {
    "allenai/olmoe-1b-7b-0924": "olmoe-1b-7b",
    "allenai/olmoe-1b-7b-0125": "olmoe-1b-7b",
    "mistralai/mixtral-8x7b-v0.1": "mixtral-8x7b",
    "mistralai/mixtral-8x7b-instruct-v0.1": "mixtral-8x7b",
    "qwen/qwen1.5-moe-a2.7b": "qwen1.5-moe-a2.7b",
    "qwen/qwen1.5-moe-a2.7b-chat": "qwen1.5-moe-a2.7b",
    "qwen/qwen3-30b-a3b": "qwen3-30b-a3b",
    "qwen/qwen3-30b-a3b-base": "qwen3-30b-a3b",
    "deepseek-ai/deepseek-moe-16b-base": "deepseek-moe-16b",
    "deepseek-ai/deepseek-moe-16b-chat": "deepseek-moe-16b",
}

INSTALL_HINT = (
    "install PyTorch and transformers, e.g. `pip install torch transformers accelerate` "
    "(add `datasets` for --dataset), and python3-protobuf or `pip install protobuf`; "
    "see experiments/capture/README.md")


class InputError(Exception):
    """Bad input: reported on stderr with exit code 2."""


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Record the routing of a Hugging Face MoE model into an epsim trace.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", required=True, help="Hugging Face model id or local path")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompts", help="text file, one prompt per line, or JSON lines "
                     "with a 'text' field (see --text-field)")
    src.add_argument("--dataset", help="datasets name[:config], read streaming")
    p.add_argument("--dataset-split", default="train", help="split of --dataset")
    p.add_argument("--text-field", default="text", help="field holding the prompt text")
    p.add_argument("--max-tokens", type=int, default=16384,
                   help="prefill tokens to record (the last prompt is cut to fit)")
    p.add_argument("--max-seq-len", type=int, default=2048, help="tokens kept per prompt")
    p.add_argument("--batch-size", type=int, default=8, help="prompts per forward pass")
    p.add_argument("--candidates", type=int, default=4,
                   help="next-best experts recorded per token beyond the top-k")
    p.add_argument("--decode-steps", type=int, default=0,
                   help="greedy decode steps recorded after each prefill (0 = prefill only); "
                        "every forward pass is one forward step of the trace")
    p.add_argument("--decode-only", action="store_true",
                   help="with --decode-steps: write the decode steps only, not the prefills "
                        "(the trace a decode replay wants)")
    p.add_argument("--top-k", type=int, default=None,
                   help="experts selected per token, where the model does not say")
    p.add_argument("--device", default="cuda", help="device for the inputs (cuda, cpu)")
    p.add_argument("--device-map", default=None,
                   help="transformers device_map (default: --device; 'auto' spreads over GPUs)")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    p.add_argument("--trust-remote-code", action="store_true",
                   help="needed for DeepSeek-MoE (remote modelling code)")
    p.add_argument("--model-name", default=None,
                   help="model name written to the header (a models/ name for epsim simulate); "
                   "default: known ids map to models/ names, others to the id's last part")
    p.add_argument("-o", "--output", required=True, help="trace file to write")
    args = p.parse_args(argv)
    for flag in ("max_tokens", "max_seq_len", "batch_size"):
        if getattr(args, flag) <= 0:
            p.error(f"--{flag.replace('_', '-')} must be positive")
    if args.candidates < 0 or args.decode_steps < 0:
        p.error("--candidates and --decode-steps must be >= 0")
    if args.decode_only and args.decode_steps == 0:
        p.error("--decode-only needs --decode-steps N (N > 0): nothing would be recorded")
    return args


def header_model_name(model_id):
    key = model_id.rstrip("/").lower()
    if key in KNOWN_MODELS:
        return KNOWN_MODELS[key]
    return os.path.basename(model_id.rstrip("/")).lower()


def read_prompts(path, text_field):
    """Prompts of a text file (one a line) or JSON lines file (text_field)."""
    prompts = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if line.lstrip().startswith("{"):
                try:
                    line = json.loads(line)[text_field]
                except (ValueError, KeyError, TypeError) as e:
                    raise InputError(f"{path}:{number}: no '{text_field}' field: {e}") from e
            prompts.append(line)
    if not prompts:
        raise InputError(f"{path}: no prompts")
    return prompts


def dataset_prompts(spec, split, text_field):
    try:
        import datasets
    except ImportError as e:
        raise InputError(f"--dataset needs the `datasets` package ({e}); {INSTALL_HINT}") from e
    name, _, config = spec.partition(":")
    for row in datasets.load_dataset(name, config or None, split=split, streaming=True):
        if text_field not in row:
            raise InputError(f"{spec}: rows have no '{text_field}' field ({sorted(row)})")
        if row[text_field].strip():
            yield row[text_field]


def token_budget(prompts, tokenize, max_tokens, max_seq_len):
    """Token id lists: each prompt cut to max_seq_len, the total to max_tokens."""
    out, total = [], 0
    for text in prompts:
        ids = tokenize(text)[:max_seq_len][:max_tokens - total]
        if ids:
            out.append(ids)
            total += len(ids)
        if total >= max_tokens:
            break
    return out


def pad_batch(seqs, pad_id, left):
    """(input_ids, attention_mask) as lists of rows padded to the longest."""
    width = max(len(s) for s in seqs)
    ids, mask = [], []
    for s in seqs:
        pad = [pad_id] * (width - len(s))
        ids.append(pad + s if left else s + pad)
        mask.append(([0] * len(pad) + [1] * len(s)) if left else ([1] * len(s) + [0] * len(pad)))
    return ids, mask


def run_batches(model, capture, batches, pad_id, device, decode_steps, log):
    """Runs each batch (token id lists) through the model, recorded by capture."""
    import torch
    first_sequence = 0
    for number, seqs in enumerate(batches):
        # Right padding keeps the positions of a prefill exact; generate()
        # wants left padding and fixes positions from the mask itself.
        ids, mask = pad_batch(seqs, pad_id, left=decode_steps > 0)
        input_ids = torch.tensor(ids, device=device)
        attention_mask = torch.tensor(mask, device=device)
        capture.begin_batch(attention_mask, first_sequence)
        with torch.inference_mode():
            if decode_steps:
                model.generate(input_ids=input_ids, attention_mask=attention_mask,
                               max_new_tokens=decode_steps, min_new_tokens=decode_steps,
                               do_sample=False, pad_token_id=pad_id)
            else:
                model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        capture.end_batch()
        first_sequence += len(seqs)
        log(f"batch {number}: {len(seqs)} prompts, {sum(map(len, seqs))} tokens")


def load_model(args):
    import torch
    import transformers
    dtype = getattr(torch, args.dtype)
    tokenizer = transformers.AutoTokenizer.from_pretrained(
        args.model, trust_remote_code=args.trust_remote_code)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        args.model, torch_dtype=dtype, device_map=args.device_map or args.device,
        trust_remote_code=args.trust_remote_code)
    model.eval()
    return tokenizer, model


def capture(args, log):
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
        import epsim_trace_writer as etw
        import moe_hooks
    except ImportError as e:
        raise InputError(f"missing package: {e}; {INSTALL_HINT}") from e
    tokenizer, model = load_model(args)
    routers = moe_hooks.find_routers(model, args.top_k)
    for spec in ("num_experts", "num_topk"):
        if len({getattr(r, spec) for r in routers}) != 1:
            raise InputError(f"{args.model}: MoE layers differ in {spec}")
    r0 = routers[0]
    log(f"{len(routers)} MoE layers ({routers[0].layer}..{routers[-1].layer}), "
        f"{r0.family}: top-{r0.num_topk} of {r0.num_experts} experts, {r0.scoring}")
    prompts = (read_prompts(args.prompts, args.text_field) if args.prompts
               else dataset_prompts(args.dataset, args.dataset_split, args.text_field))
    seqs = token_budget(prompts, lambda t: tokenizer(t)["input_ids"], args.max_tokens,
                        args.max_seq_len)
    batches = [seqs[i:i + args.batch_size] for i in range(0, len(seqs), args.batch_size)]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    source = args.prompts or f"{args.dataset} ({args.dataset_split})"
    phase = (f"{args.decode_steps} decode steps (prefills not recorded)" if args.decode_only
             else f"prefill + {args.decode_steps} decode steps" if args.decode_steps else "prefill")
    description = (f"{args.model}, routing captured by hooks ({r0.family}); {phase}; "
                   f"prompts: {source}; batch {args.batch_size}; {args.dtype}")
    with etw.TraceWriter(args.output, model=args.model_name or header_model_name(args.model),
                         num_experts=r0.num_experts, num_topk=r0.num_topk,
                         num_candidates=min(r0.num_topk + args.candidates, r0.num_experts),
                         source_files=[source], description=description) as writer:
        hooks = moe_hooks.RouterCapture(routers, writer, writer.num_candidates - r0.num_topk,
                                        record_prefill=not args.decode_only)
        hooks.attach()
        try:
            run_batches(model, hooks, batches, pad_id, args.device, args.decode_steps, log)
        finally:
            hooks.detach()
        counts = writer.finish()
    log(f"wrote {args.output}: {len(counts)} layers ({min(counts)}..{max(counts)}), "
        f"{sum(counts.values())} token rows, top-{r0.num_topk} of {r0.num_experts} experts, "
        f"{writer.num_candidates} candidates, {hooks.num_steps} forward steps")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def log(msg):
        print(f"capture_routing: {msg}", file=sys.stderr, flush=True)

    try:
        capture(args, log)
    except (InputError, OSError) as e:
        log(f"error: {e}")
        return EXIT_BAD_INPUT
    except Exception as e:  # the hooks' CaptureError, the writer's TraceError
        if type(e).__name__ not in ("CaptureError", "TraceError"):
            raise
        log(f"error: {e}")
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
