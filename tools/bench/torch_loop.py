"""The plain PyTorch training loop `npm run bench -- --with-torch` runs beside ours (W2, W6, W8).

Same workload as tools/bench/w2-compute.ts / w6-midsize.ts: the same model shapes, optimizer,
batch size, shuffled task scheduler and number of timed steps; the data follow the same recipe
(drawn with torch's generator, so not the same numbers). Prints one JSON object per repetition.
Debian's python3-torch is enough; it is never a dependency of the project.

W8 is deep VMTL on the Fashion-MNIST domains (tools/bench/w8-deep-vmtl.ts): the same shapes and
computation per step (shared 196-128-64 ReLU trunk; per domain a Gaussian posterior over a 65 x 10
linear classifier, 10 reparameterised draws, softmax cross-entropy averaged over the draws; the
upper-bound mixture KL to the other domains' detached posteriors with Gumbel-softmax alpha, its
weight ramped 0 -> 0.01 over 100 steps, divided by the domain's 200 rows; Adam 1e-3; a batch of 32
from every domain per step). Its images and labels are random (timing only: no accuracy).

usage: python3 torch_loop.py W2|W6|W8 --steps N --reps R [--threads T]
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

WORKLOADS = {
    # tasks, input dim, trunk widths, rows per task, batch, lr
    "W2": dict(tasks=8, dim=16, hidden=[512, 512], rows=20_000, batch=256, lr=1e-3),
    "W6": dict(tasks=4, dim=64, hidden=[64, 32], rows=10_000, batch=32, lr=1e-3),
}


def make_data(w, gen):
    data = []
    for k in range(w["tasks"]):
        x = torch.rand(w["rows"], w["dim"], generator=gen) * 2 - 1
        centre = torch.zeros(w["dim"])
        centre[k] = 0.5
        threshold = w["dim"] / 3 + 0.25 + 0.1 * (k - (w["tasks"] - 1) / 2)
        y = (((x - centre) ** 2).sum(1) < threshold).long()
        data.append((x, y))
    return data


def build(w):
    layers, width = [], w["dim"]
    for h in w["hidden"]:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    trunk = torch.nn.Sequential(*layers)
    heads = torch.nn.ModuleList(torch.nn.Linear(width, 2) for _ in range(w["tasks"]))
    return trunk, heads


def batches(w, data, gen):
    """One epoch of the `shuffled` scheduler: every task's batches, in a random order."""
    order = []
    for k, (x, _) in enumerate(data):
        perm = torch.randperm(len(x), generator=gen)
        order += [(k, perm[i : i + w["batch"]]) for i in range(0, len(x), w["batch"])]
    idx = torch.randperm(len(order), generator=gen).tolist()
    return [order[i] for i in idx]


def run(w, steps, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    data = make_data(w, gen)
    trunk, heads = build(w)
    params = list(trunk.parameters()) + list(heads.parameters())
    opt = torch.optim.Adam(params, lr=w["lr"])
    done, examples = 0, 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    while done < steps:
        for k, rows in batches(w, data, gen):
            if done == steps:
                break
            x, y = data[k][0][rows], data[k][1][rows]
            # set_to_none: the heads of other tasks get no update (as in the Trainer).
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(heads[k](trunk(x)), y)
            loss.backward()
            opt.step()
            done += 1
            examples += len(rows)
    ms = (time.perf_counter() - t0) * 1000
    cpu_ms = (time.process_time() - c0) * 1000
    return dict(ms=ms, cpuMs=cpu_ms, steps=steps, examples=examples)


W8 = dict(tasks=4, dim=196, hidden=[128, 64], rows=200, batch=32, classes=10, draws=10, lr=1e-3)


def run_w8(steps, seed):
    w = W8
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    T, D, K = w["tasks"], w["hidden"][-1] + 1, w["classes"]
    xs = [torch.rand(w["rows"], w["dim"], generator=gen) for _ in range(T)]
    ys = [torch.randint(0, K, (w["rows"],), generator=gen) for _ in range(T)]
    layers, width = [], w["dim"]
    for h in w["hidden"]:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    trunk = torch.nn.Sequential(*layers)
    # tiedInit: every domain's posterior starts from the same values.
    loc = torch.nn.Parameter(torch.zeros(T, D, K))
    log_scale = torch.nn.Parameter(torch.full((T, D, K), -3.0))
    mixing = torch.nn.Parameter(torch.zeros(T, T))
    opt = torch.optim.Adam(list(trunk.parameters()) + [loc, log_scale, mixing], lr=w["lr"])
    off_diagonal = ~torch.eye(T, dtype=torch.bool)
    done, examples = 0, 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    while done < steps:
        perms = [torch.randperm(w["rows"], generator=gen) for _ in range(T)]
        for start in range(0, w["rows"], w["batch"]):
            if done == steps:
                break
            opt.zero_grad(set_to_none=True)
            kl_weight = min(1.0, done / 100) * 0.01
            tau = max(0.5, 1.0 / (1 + done) ** 0.5)
            gumbel = -torch.log(-torch.log(torch.rand(T, T).clamp_min(1e-20)))
            logits = ((mixing + gumbel) / tau).masked_fill(~off_diagonal, float("-inf"))
            alpha = torch.softmax(logits, dim=1)
            scale = torch.exp(log_scale)
            total = 0.0
            for t in range(T):
                rows = perms[t][start : start + w["batch"]]
                h = trunk(xs[t][rows])
                h1 = torch.cat([h, torch.ones(len(rows), 1)], dim=1)
                weights = loc[t] + scale[t] * torch.randn(w["draws"], D, K)
                out = torch.einsum("bd,mdk->mbk", h1, weights)
                nll = F.cross_entropy(out.reshape(-1, K), ys[t][rows].repeat(w["draws"]))
                # KL(q_t || q_i) of diagonal Gaussians, the prior components detached.
                lp, sp = loc.detach(), scale.detach()
                kl = (torch.log(sp / scale[t]) + (scale[t] ** 2 + (loc[t] - lp) ** 2) / (2 * sp**2) - 0.5).sum(
                    dim=(1, 2)
                )
                kl_t = (alpha[t] * kl.masked_fill(~off_diagonal[t], 0.0)).sum()
                total = total + nll + kl_weight * kl_t / w["rows"]
                examples += len(rows)
            total.backward()
            opt.step()
            done += 1
    ms = (time.perf_counter() - t0) * 1000
    cpu_ms = (time.process_time() - c0) * 1000
    return dict(ms=ms, cpuMs=cpu_ms, steps=steps, examples=examples)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=sorted([*WORKLOADS, "W8"]))
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    one = (lambda steps, seed: run_w8(steps, seed)) if a.workload == "W8" else (
        lambda steps, seed: run(WORKLOADS[a.workload], steps, seed)
    )
    one(min(a.steps, 50), 999)  # untimed warm-up, as for our workloads
    for r in range(a.reps):
        out = one(a.steps, 1000 + r)
        out.update(threads=torch.get_num_threads(), torch=torch.__version__)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
