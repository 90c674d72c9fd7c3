"""Cross-check helper: runs PyTorch Hugging Face transformers on model folders.

Reads a JSON job on stdin and prints JSON results on stdout. Used by
src/hf-crosscheck.integration.test.ts when MASA_HF_PYTHON names a Python that has
torch, transformers and safetensors (the test is skipped otherwise).

Job:
  {"precision": "as-is" | "float64",                  # see below
   "load": [{"dir": str, "rows": [[int]]}],           # folders masa-rl wrote
   "create": [{"dir": str, "config": {...}, "seed": int}],  # folders for masa-rl to read
   "tokenize": {"dir": str, "texts": [str], "chats": [{"messages": [...], "kwargs": {...}}]}}
Result:
  {"load": [{"logits": [[[float]]], "logprobs": [[float]]}],  # per row: logits[t][v]; log p(token t | <t) for t >= 1
   "create": [{"dir": str}],
   "versions": {...}}
Everything runs in float64, one row at a time (no padding). transformers keeps two float32
islands even in a float64 model: the rotary cos/sin tables ("Force float32" in every
*RotaryEmbedding.forward) and RMSNorm (`hidden_states.to(torch.float32)`). With
"precision": "float64" this script replaces both forwards with the same formulas in
float64 (inverse frequencies recomputed here from the config), which isolates the model's
semantics from that float32 rounding; "as-is" runs transformers unchanged.
"""
import math

import json
import sys

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer


def inverse_frequencies64(config):
    """inv_freq in float64 for the rope types masa-rl supports (default, linear, llama3)."""
    params = dict(getattr(config, "rope_parameters", None) or {})
    theta = params.get("rope_theta", getattr(config, "rope_theta", 10000.0))
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    kind = params.get("rope_type", "default")
    out = []
    for i in range(0, head_dim, 2):
        f = theta ** (-i / head_dim)
        if kind == "linear":
            f = f / params["factor"]
        elif kind == "llama3":
            factor, low, high = params["factor"], params["low_freq_factor"], params["high_freq_factor"]
            old = params["original_max_position_embeddings"]
            wavelength = 2 * math.pi / f
            if wavelength > old / low:
                f = f / factor
            elif not wavelength < old / high:
                smooth = (old / wavelength - low) / (high - low)
                f = (1 - smooth) * f / factor + smooth * f
        elif kind != "default":
            raise ValueError(f"rope type {kind} not handled")
        out.append(f)
    return torch.tensor(out, dtype=torch.float64)


def use_float64_islands(model):
    inverse = inverse_frequencies64(model.config)
    rotary = model.model.rotary_emb

    def rope_forward(x, position_ids):
        freqs = position_ids[:, :, None].to(torch.float64) * inverse[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    rotary.forward = rope_forward
    for module in model.modules():
        if type(module).__name__.endswith("RMSNorm"):

            def norm_forward(hidden_states, module=module):
                variance = hidden_states.pow(2).mean(-1, keepdim=True)
                return module.weight * (hidden_states * torch.rsqrt(variance + module.variance_epsilon))

            module.forward = norm_forward


def run_rows(model, rows):
    out = []
    for row in rows:
        ids = torch.tensor([row], dtype=torch.long)
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0].to(torch.float64)
        logprobs = torch.log_softmax(logits, dim=-1)
        picked = [float(logprobs[t - 1, row[t]]) for t in range(1, len(row))]
        out.append({"logits": logits.tolist(), "logprobs": picked})
    return out


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(1)
    result = {"load": [], "create": [], "versions": {"transformers": transformers.__version__, "torch": torch.__version__}}
    for item in job.get("load", []):
        model = AutoModelForCausalLM.from_pretrained(item["dir"], dtype=torch.float64)
        model.eval()
        if job.get("precision") == "float64":
            use_float64_islands(model)
        result["load"].append({"rows": run_rows(model, item["rows"])})
    for item in job.get("create", []):
        torch.manual_seed(item["seed"])
        config = AutoConfig.for_model(**item["config"])
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float64)
        # Random norms and biases too, so a swapped or skipped one shows up.
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if name.endswith("norm.weight"):
                    parameter.copy_(1 + 0.1 * torch.randn_like(parameter))
                elif name.endswith(".bias"):
                    parameter.copy_(0.1 * torch.randn_like(parameter))
                else:
                    parameter.copy_(0.3 * torch.randn_like(parameter))
        model.eval()
        model.save_pretrained(item["dir"], safe_serialization=True)
        if job.get("precision") == "float64":
            use_float64_islands(model)
        result["create"].append({"dir": item["dir"], "rows": run_rows(model, item.get("rows", []))})
    if "tokenize" in job:
        spec = job["tokenize"]
        tokenizer = AutoTokenizer.from_pretrained(spec["dir"])
        result["tokenize"] = {
            "texts": [tokenizer.encode(text, add_special_tokens=False) for text in spec.get("texts", [])],
            "chats": [
                tokenizer.apply_chat_template(chat["messages"], tokenize=False, **chat.get("kwargs", {}))
                for chat in spec.get("chats", [])
            ],
        }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
