"""The benchmark decoder in plain PyTorch (CPU, one thread): the same
Qwen3-shaped model as decoder.mjs, loaded from the weights and batch that
train-step.mjs wrote, timed over full training steps (forward, weighted
log-likelihood loss, backward, grad-norm clip, AdamW).

usage: torch_step.py FOLDER STEPS WARMUP [DEVICE]   (prints one JSON line)
       torch_step.py FOLDER serve [DEVICE]           (one step per "step" line on stdin,
                                                       one JSON line per step on stdout)
DEVICE is cpu (default) or cuda.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def load(folder, device):
    with open(os.path.join(folder, "manifest.json")) as handle:
        manifest = json.load(handle)
    params = {}
    kinds = {}
    for spec in manifest["parameters"]:
        data = np.fromfile(os.path.join(folder, spec["file"]), dtype=np.float32).reshape(spec["dims"])
        params[spec["name"]] = torch.nn.Parameter(torch.from_numpy(data.copy()).to(device))
        kinds[spec["name"]] = spec["kind"]
    inputs = {}
    batch, seq = manifest["batch"], manifest["seq"]
    for name, spec in manifest["inputs"].items():
        dtype = np.float32 if spec["dtype"] == "float32" else np.int64
        inputs[name] = torch.from_numpy(np.fromfile(os.path.join(folder, spec["file"]), dtype=dtype).reshape(batch, seq).copy()).to(device)
    return manifest, params, kinds, inputs


def rms_norm(x, weight, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate(x, cos, sin):
    first, second = x.chunk(2, dim=-1)
    return torch.cat((first * cos - second * sin, second * cos + first * sin), dim=-1)


def loss_fn(config, p, inputs, theta=1e6):
    ids, mask, positions = inputs["input_ids"], inputs["attention_mask"], inputs["position_ids"]
    batch, seq = ids.shape
    heads, kv_heads, head_dim = config["queryHeads"], config["kvHeads"], config["headDim"]
    group = heads // kv_heads
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim // 2, dtype=torch.float32, device=ids.device) * 2 / head_dim)
    angles = positions[:, None, :, None].float() * inv_freq  # [batch, 1, seq, head_dim/2]
    cos, sin = angles.cos(), angles.sin()
    causal = torch.tril(torch.ones(seq, seq, dtype=torch.bool, device=ids.device))
    allowed = causal[None, None] & (mask > 0)[:, None, None, :]  # [batch, 1, seq, seq]
    h = F.embedding(ids, p["embed"])
    for layer in range(config["layers"]):
        pre = f"layers.{layer}."
        x = rms_norm(h, p[pre + "input_norm"])
        q = (x @ p[pre + "wq"]).view(batch, seq, heads, head_dim).transpose(1, 2)
        k = (x @ p[pre + "wk"]).view(batch, seq, kv_heads, head_dim).transpose(1, 2)
        v = (x @ p[pre + "wv"]).view(batch, seq, kv_heads, head_dim).transpose(1, 2)
        q = rotate(rms_norm(q, p[pre + "q_norm"]), cos, sin)
        k = rotate(rms_norm(k, p[pre + "k_norm"]), cos, sin)
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(head_dim)
        scores = scores.masked_fill(~allowed, -1e9)
        context = scores.softmax(-1) @ v  # [batch, heads, seq, head_dim]
        h = h + context.transpose(1, 2).reshape(batch, seq, heads * head_dim) @ p[pre + "wo"]
        y = rms_norm(h, p[pre + "post_norm"])
        h = h + (F.silu(y @ p[pre + "w_gate"]) * (y @ p[pre + "w_up"])) @ p[pre + "w_down"]
    h = rms_norm(h, p["final_norm"])
    log_probs = (h @ p["lm_head"]).log_softmax(-1)
    picked = log_probs.gather(-1, inputs["targets"][..., None]).squeeze(-1)
    return -(picked * inputs["token_weights"]).sum()


def build(folder, device="cpu"):
    manifest, params, kinds, inputs = load(folder, device)
    synchronize = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    hyper = manifest["hyper"]
    decay = [value for name, value in params.items() if kinds[name] != "norm"]
    no_decay = [value for name, value in params.items() if kinds[name] == "norm"]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": hyper["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=hyper["learningRate"],
        betas=(hyper["beta1"], hyper["beta2"]),
        eps=hyper["epsilon"],
    )
    all_params = list(params.values())

    def step():
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(manifest["config"], params, inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(all_params, hyper["maxGradNorm"])
        optimizer.step()
        synchronize()
        return (time.perf_counter() - start) * 1000, float(loss.detach())

    return step


def main():
    folder = sys.argv[1]
    serve = sys.argv[2] == "serve"
    device = (sys.argv[3] if serve else sys.argv[4]) if len(sys.argv) > (3 if serve else 4) else "cpu"
    if device not in ("cpu", "cuda"):
        sys.exit(f"torch_step.py: DEVICE must be cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_step.py: DEVICE cuda requested but torch.cuda.is_available() is False (a CPU-only PyTorch build, or no GPU)")
    step = build(folder, device)
    if serve:
        for line in sys.stdin:
            if line.strip() != "step":
                break
            elapsed, loss = step()
            print(json.dumps({"ms": elapsed, "loss": loss, "torch_version": torch.__version__, "device": device}), flush=True)
        return
    steps, warmup = int(sys.argv[2]), int(sys.argv[3])
    first_loss = None
    times = []
    for index in range(warmup + steps):
        elapsed, loss = step()
        if first_loss is None:
            first_loss = loss
        if index >= warmup:
            times.append(elapsed)
    print(json.dumps({"step_ms": times, "first_loss": first_loss, "torch_version": torch.__version__, "threads": torch.get_num_threads(), "device": device}))


if __name__ == "__main__":
    main()
