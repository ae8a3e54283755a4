"""Writes PyTorch's outputs and gradients for the NN and Optim tests.

Run with a Python that has torch and safetensors (see README):
`.venv/bin/python Scripts/make_nn_fixtures.py`. Files go to Tests/NNTests/Fixtures.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

from torch_models import ResNet18, randomize_running_stats

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures")
os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    os.remove(os.path.join(OUT, f))


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), np.array(t.detach().numpy(), order="C"))


# Default initialisation under a seed: the Swift side draws the same numbers.
torch.manual_seed(0)
init_linear = nn.Linear(5, 3)
init_conv = nn.Conv2d(2, 4, 3)
save("init_linear_weight", init_linear.weight)
save("init_linear_bias", init_linear.bias)
save("init_conv_weight", init_conv.weight)
save("init_conv_bias", init_conv.bias)

# Layers: output and gradients of input and parameters for a fixed upstream gradient.
rng = np.random.default_rng(3)


def rand(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32)


layers = {
    "linear": (nn.Linear(5, 3), (4, 5)),
    "conv": (nn.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    "conv_strided": (nn.Conv2d(2, 4, (3, 2), stride=2, padding=1), (2, 2, 7, 8)),
    "conv_dilated_groups": (nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2, bias=False), (1, 4, 6, 6)),
    "maxpool": (nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
    "avgpool": (nn.AvgPool2d(2), (2, 3, 6, 4)),
    "adaptive_avgpool": (nn.AdaptiveAvgPool2d((3, 2)), (2, 2, 7, 5)),
    "batchnorm2d": (nn.BatchNorm2d(3), (4, 3, 3, 2)),
    "batchnorm1d": (nn.BatchNorm1d(5), (6, 5)),
    "layernorm": (nn.LayerNorm([4, 3]), (2, 4, 3)),
    "gelu": (nn.GELU(), (3, 4)),
    "softmax": (nn.Softmax(dim=1), (3, 4)),
    "flatten": (nn.Flatten(), (2, 3, 2)),
}
for name, (module, shape) in layers.items():
    for p in module.parameters():
        with torch.no_grad():
            p.copy_(rand(*p.shape))
    x = rand(*shape).requires_grad_()
    out = module(x)
    up = rand(*out.shape)
    (out * up).sum().backward()
    save(f"layer_{name}_in", x)
    save(f"layer_{name}_out", out)
    save(f"layer_{name}_up", up)
    save(f"layer_{name}_gradin", x.grad)
    for pname, p in module.named_parameters():
        save(f"layer_{name}_param_{pname}", p)
        save(f"layer_{name}_grad_{pname}", p.grad)
    for bname, b in module.named_buffers():
        save(f"layer_{name}_buffer_{bname}", b)

# Batch norm in evaluation mode uses (and does not change) the running statistics.
bn = nn.BatchNorm2d(3)
with torch.no_grad():
    bn.running_mean.copy_(rand(3))
    bn.running_var.copy_(rand(3).abs() + 0.5)
    bn.weight.copy_(rand(3))
    bn.bias.copy_(rand(3))
bn.eval()
x = rand(2, 3, 2, 2)
save("bn_eval_in", x)
save("bn_eval_running_mean", bn.running_mean)
save("bn_eval_running_var", bn.running_var)
save("bn_eval_weight", bn.weight)
save("bn_eval_bias", bn.bias)
save("bn_eval_out", bn(x))

emb = nn.Embedding(6, 3)
with torch.no_grad():
    emb.weight.copy_(rand(6, 3))
idx = torch.tensor([[1, 5, 1], [0, 2, 2]])
out = emb(idx)
up = rand(*out.shape)
(out * up).sum().backward()
save("embedding_weight", emb.weight)
save("embedding_up", up)
save("embedding_out", out)
save("embedding_grad", emb.weight.grad)

# Losses with every reduction.
logits = rand(5, 4)
labels = torch.tensor([0, 3, 1, 3, 2])
labels_ignored = torch.tensor([0, -100, 1, 3, -100])
probs = torch.softmax(rand(5, 4), 1)
class_weight = torch.tensor([0.5, 1.0, 2.0, 1.5])
seg_logits = rand(2, 3, 2, 2)
seg_labels = torch.tensor([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])
p01 = torch.sigmoid(rand(6))
t01 = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.3, 1.0])
save("loss_logits", logits)
save("loss_labels", labels)
save("loss_labels_ignored", labels_ignored)
save("loss_probs", probs)
save("loss_class_weight", class_weight)
save("loss_seg_logits", seg_logits)
save("loss_seg_labels", seg_labels)
save("loss_p01", p01)
save("loss_t01", t01)
losses = {
    "ce": lambda x: F.cross_entropy(x, labels),
    "ce_sum": lambda x: F.cross_entropy(x, labels, reduction="sum"),
    "ce_none": lambda x: F.cross_entropy(x, labels, reduction="none"),
    "ce_weight": lambda x: F.cross_entropy(x, labels, weight=class_weight),
    "ce_ignore": lambda x: F.cross_entropy(x, labels_ignored),
    "ce_smooth": lambda x: F.cross_entropy(x, labels, label_smoothing=0.1),
    "ce_smooth_weight_ignore": lambda x: F.cross_entropy(x, labels_ignored, weight=class_weight, label_smoothing=0.2),
    "ce_probs": lambda x: F.cross_entropy(x, probs),
    "ce_probs_smooth": lambda x: F.cross_entropy(x, probs, label_smoothing=0.1, weight=class_weight),
    "nll": lambda x: F.nll_loss(F.log_softmax(x, 1), labels, weight=class_weight),
    "mse": lambda x: F.mse_loss(x, probs),
    "mse_sum": lambda x: F.mse_loss(x, probs, reduction="sum"),
    "l1": lambda x: F.l1_loss(x, probs),
    "l1_none": lambda x: F.l1_loss(x, probs, reduction="none"),
}
for name, fn in losses.items():
    x = logits.clone().requires_grad_()
    out = fn(x)
    out.sum().backward()
    save(f"loss_{name}_out", out)
    save(f"loss_{name}_grad", x.grad)
x = seg_logits.clone().requires_grad_()
out = F.cross_entropy(x, seg_labels)
out.backward()
save("loss_ce_seg_out", out)
save("loss_ce_seg_grad", x.grad)
for name, fn in {
    "bce": lambda p: F.binary_cross_entropy(p, t01),
    "bce_weight_sum": lambda p: F.binary_cross_entropy(p, t01, weight=torch.linspace(0.5, 1.5, 6), reduction="sum"),
    "bce_logits": lambda p: F.binary_cross_entropy_with_logits(p, t01),
    "bce_logits_pos": lambda p: F.binary_cross_entropy_with_logits(p, t01, pos_weight=torch.tensor(2.5), reduction="none"),
}.items():
    x = (p01.clone() if "logits" not in name else torch.logit(p01) * 3).requires_grad_()
    save(f"loss_{name}_in", x)
    out = fn(x)
    out.sum().backward()
    save(f"loss_{name}_out", out)
    save(f"loss_{name}_grad", x.grad)


torch.manual_seed(1)
resnet = ResNet18(num_classes=10)
randomize_running_stats(resnet)
with torch.no_grad():
    # Stored as float16 to halve the file: round the weights first, so the float32 model
    # that computes the reference logits holds exactly the stored values.
    for v in resnet.state_dict().values():
        if v.is_floating_point():
            v.copy_(v.half().float())
resnet.eval()
x = torch.randn(2, 3, 32, 32)
save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in resnet.state_dict().items()},
          os.path.join(OUT, "resnet18.safetensors"), metadata={"format": "pt"})
save("resnet_in", x)
save("resnet_logits", resnet(x))
with open(os.path.join(OUT, "resnet_keys.json"), "w") as f:
    json.dump({str(i): k for i, k in enumerate(resnet.state_dict().keys())}, f, indent=0)

# Optimizer trajectories: five steps on a fixed quadratic from the same start.
w0 = rand(3, 4)
b0 = rand(4)
xs = rand(6, 3)
ys = rand(6, 4)
save("optim_w0", w0)
save("optim_b0", b0)
save("optim_x", xs)
save("optim_y", ys)
configs = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
    "adam_amsgrad_decay": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01),
    "rmsprop_centered_momentum": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
    "sgd_groups": lambda ps: torch.optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.5}], lr=0.1, momentum=0.9),
    # Every hyper-parameter per group: "decay on matrices only", and groups that change each setting.
    "adamw_decay_groups": lambda ps: torch.optim.AdamW(
        [{"params": [ps[0]], "weight_decay": 0.1}, {"params": [ps[1]], "weight_decay": 0.0, "betas": (0.8, 0.95), "eps": 1e-6, "lr": 0.02}],
        lr=0.01, betas=(0.9, 0.99)),
    "sgd_hyper_groups": lambda ps: torch.optim.SGD(
        [{"params": [ps[0]], "nesterov": True, "momentum": 0.8}, {"params": [ps[1]], "weight_decay": 0.05, "dampening": 0.3}],
        lr=0.05, momentum=0.9),
    "rmsprop_hyper_groups": lambda ps: torch.optim.RMSprop(
        [{"params": [ps[0]], "alpha": 0.9, "centered": True}, {"params": [ps[1]], "momentum": 0.5, "eps": 1e-4}], lr=0.01),
    "adam_amsgrad_group": lambda ps: torch.optim.Adam([{"params": [ps[0]], "amsgrad": True}, {"params": [ps[1]]}], lr=0.01, weight_decay=0.01),
}
for name, make in configs.items():
    w = w0.clone().requires_grad_()
    b = b0.clone().requires_grad_()
    opt = make([w, b])
    trajectory = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((xs @ w + b - ys) ** 2).mean()
        loss.backward()
        opt.step()
        trajectory.append(torch.cat([w.detach().flatten(), b.detach().flatten()]))
    save(f"optim_{name}", torch.stack(trajectory))

schedules = {}
opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
step_lr = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
lrs = []
for _ in range(10):
    opt.step()
    step_lr.step()
    lrs.append(step_lr.get_last_lr()[0])
schedules["step"] = lrs
opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
lrs = []
for _ in range(12):
    opt.step()
    cosine.step()
    lrs.append(cosine.get_last_lr()[0])
schedules["cosine"] = lrs


def record_schedule(name, make, steps=100, metrics=None, optimizer=None):
    """The rates (and momentum or first beta) after each of `steps` steps of `make(opt)`."""
    opt = optimizer or torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = make(opt)
    lrs, momenta = [], []
    for i in range(steps):
        opt.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[i])
        lrs.append(opt.param_groups[0]["lr"])
        group = opt.param_groups[0]
        momenta.append(group["betas"][0] if "betas" in group else group["momentum"])
    schedules[name] = lrs
    schedules[name + "_momentum"] = momenta


lr_sched = torch.optim.lr_scheduler
record_schedule("lambda", lambda o: lr_sched.LambdaLR(o, lambda e: 0.95 ** e + 0.01 * (e % 7)))
record_schedule("linear", lambda o: lr_sched.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=40))
record_schedule("warmup_cosine", lambda o: lr_sched.SequentialLR(
    o, [lr_sched.LinearLR(o, start_factor=0.01, total_iters=10), lr_sched.CosineAnnealingLR(o, T_max=90, eta_min=1e-3)], milestones=[10]))
record_schedule("three_stages", lambda o: lr_sched.SequentialLR(
    o, [lr_sched.ExponentialLR(o, gamma=0.9),
        lr_sched.StepLR(o, step_size=7, gamma=0.5), lr_sched.CosineAnnealingLR(o, T_max=20)], milestones=[30, 60]))
record_schedule("multistep", lambda o: lr_sched.MultiStepLR(o, milestones=[10, 30, 30, 75], gamma=0.5))
record_schedule("exponential", lambda o: lr_sched.ExponentialLR(o, gamma=0.97))
record_schedule("onecycle", lambda o: lr_sched.OneCycleLR(o, max_lr=0.5, total_steps=100))
record_schedule("onecycle_three_phase_linear_adam", lambda o: lr_sched.OneCycleLR(
    o, max_lr=0.02, total_steps=120, pct_start=0.25, anneal_strategy="linear", three_phase=True, div_factor=10, final_div_factor=100),
    optimizer=torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1))
plateau_metrics = [1.0 / (1 + i) if i < 20 else 0.05 + 0.001 * ((i * 7) % 5) for i in range(100)]
schedules["plateau_metrics"] = plateau_metrics
record_schedule("plateau", lambda o: lr_sched.ReduceLROnPlateau(o, factor=0.5, patience=3, cooldown=2, min_lr=0.005), metrics=plateau_metrics)
record_schedule("plateau_max_abs", lambda o: lr_sched.ReduceLROnPlateau(o, mode="max", threshold=0.01, threshold_mode="abs", patience=2),
    metrics=[-m for m in plateau_metrics])
with open(os.path.join(OUT, "schedules.json"), "w") as f:
    json.dump({k: ",".join(repr(v) for v in vs) for k, vs in schedules.items()}, f, indent=0)
# Activations (their own random stream, so that adding one leaves the fixtures above alone).
act_rng = np.random.default_rng(11)
activations = {
    "leaky_relu": nn.LeakyReLU(0.2), "elu": nn.ELU(0.7), "selu": nn.SELU(), "celu": nn.CELU(1.3),
    "hardtanh": nn.Hardtanh(-0.5, 0.8), "relu6": nn.ReLU6(), "softplus": nn.Softplus(2.0, 1.0),
    "softsign": nn.Softsign(), "mish": nn.Mish(), "glu": nn.GLU(1), "logsigmoid": nn.LogSigmoid(),
    "hardsigmoid": nn.Hardsigmoid(), "hardswish": nn.Hardswish(), "tanhshrink": nn.Tanhshrink(),
    "softshrink": nn.Softshrink(0.3), "hardshrink": nn.Hardshrink(0.3), "threshold": nn.Threshold(0.1, -2.0),
    "silu": nn.SiLU(), "log_softmax": nn.LogSoftmax(1),
}


def record_case(prefix, gen, x, fn):
    """Saves input, output, a random upstream gradient and the input's gradient of one call."""
    x.requires_grad_()
    out = fn(x)
    up = torch.tensor(gen.standard_normal(tuple(out.shape)), dtype=torch.float32)
    (out * up).sum().backward()
    save(f"{prefix}_in", x)
    save(f"{prefix}_out", out)
    save(f"{prefix}_up", up)
    save(f"{prefix}_gradin", x.grad)


for name, module in activations.items():
    record_case(f"layer_{name}", act_rng, torch.tensor(act_rng.standard_normal((4, 6)) * 3, dtype=torch.float32), module)
# More losses (their own stream). Inputs and targets are saved; the Swift test rebuilds each call.
loss_rng = np.random.default_rng(13)
def lrand(*shape):
    return torch.tensor(loss_rng.standard_normal(shape), dtype=torch.float32)
x = lrand(5, 4)
t = lrand(5, 4)
signs = torch.tensor(np.sign(loss_rng.standard_normal((5,))), dtype=torch.float32)
counts = torch.tensor(loss_rng.poisson(2.0, (5, 4)), dtype=torch.float32)
variance = lrand(5, 4).abs() + 0.1
targets01 = torch.tensor(loss_rng.integers(0, 2, (5, 4)), dtype=torch.float32)
classes = torch.tensor([0, 3, 1, 3, 2])
class_weight = lrand(4).abs()
log_target = torch.log_softmax(lrand(5, 4), 1)
for name, value in {"x": x, "t": t, "signs": signs, "counts": counts, "variance": variance, "targets01": targets01,
                    "classes": classes, "class_weight": class_weight, "log_target": log_target}.items():
    save(f"loss2_{name}", value)
more_losses = {
    "huber": lambda v: F.huber_loss(v, t, delta=0.7),
    "smooth_l1": lambda v: F.smooth_l1_loss(v, t, beta=0.5, reduction="sum"),
    "kl_div": lambda v: F.kl_div(torch.log_softmax(v, 1), torch.softmax(t, 1), reduction="batchmean"),
    "kl_div_log": lambda v: F.kl_div(torch.log_softmax(v, 1), log_target, reduction="sum", log_target=True),
    "poisson_nll": lambda v: F.poisson_nll_loss(v, counts),
    "poisson_nll_full": lambda v: F.poisson_nll_loss(v.abs() + 0.5, counts, log_input=False, full=True),
    "gaussian_nll": lambda v: F.gaussian_nll_loss(v, t, variance, full=True),
    "margin_ranking": lambda v: F.margin_ranking_loss(v[:, 0], v[:, 1], signs, margin=0.2),
    "hinge_embedding": lambda v: F.hinge_embedding_loss(v[:, 0], signs, margin=0.5),
    "soft_margin": lambda v: F.soft_margin_loss(v[:, 0], signs),
    "multilabel_soft_margin": lambda v: F.multilabel_soft_margin_loss(v, targets01, weight=class_weight),
    "triplet_margin": lambda v: F.triplet_margin_loss(v, t, v.flip(0), margin=0.5, swap=True),
    "cosine_embedding": lambda v: F.cosine_embedding_loss(v, t, signs, margin=0.1),
    "multi_margin": lambda v: F.multi_margin_loss(v, classes, weight=class_weight),
    "multi_margin_p2": lambda v: F.multi_margin_loss(v, classes, p=2, margin=0.5, reduction="none"),
}
for name, fn in more_losses.items():
    v = x.clone().requires_grad_()
    out = fn(v)
    out.sum().backward()
    save(f"loss2_{name}_out", out)
    save(f"loss2_{name}_grad", v.grad)
# Padding, normalization and shuffles (their own stream): input, output, upstream and input gradient.
fn_rng = np.random.default_rng(17)
gn_weight = torch.tensor(fn_rng.standard_normal(6), dtype=torch.float32)
gn_bias = torch.tensor(fn_rng.standard_normal(6), dtype=torch.float32)
save("fn_gn_weight", gn_weight)
save("fn_gn_bias", gn_bias)
conv1d_w = torch.tensor(fn_rng.standard_normal((4, 3, 3)), dtype=torch.float32)
conv1d_groups_w = torch.tensor(fn_rng.standard_normal((4, 2, 2)), dtype=torch.float32)
conv2d_even_w = torch.tensor(fn_rng.standard_normal((2, 3, 4, 2)), dtype=torch.float32)
conv_b = torch.tensor(fn_rng.standard_normal(4), dtype=torch.float32)
sample_grid = torch.tensor(fn_rng.uniform(-1.2, 1.2, (2, 3, 2, 2)), dtype=torch.float32)
sample_input = torch.tensor(fn_rng.standard_normal((2, 3, 4, 5)), dtype=torch.float32)
save("fn_sample_grid", sample_grid)
save("fn_sample_input", sample_input)
for name, value in {"conv1d_w": conv1d_w, "conv1d_groups_w": conv1d_groups_w, "conv2d_even_w": conv2d_even_w, "conv_b": conv_b}.items():
    save(f"fn_{name}", value)
functional_cases = {
    "pad_constant": ((2, 3, 4), lambda v: F.pad(v, (2, 1, -1, 2), value=0.5)),
    "pad_reflect": ((2, 3, 4), lambda v: F.pad(v, (3, 1, 2, 0), mode="reflect")),
    "pad_replicate": ((2, 3, 4), lambda v: F.pad(v, (2, 3), mode="replicate")),
    "pad_circular": ((2, 3, 4), lambda v: F.pad(v, (1, 4, 3, 1), mode="circular")),
    "group_norm": ((2, 6, 5), lambda v: F.group_norm(v, 3, gn_weight, gn_bias)),
    "instance_norm": ((2, 6, 3, 2), lambda v: F.instance_norm(v)),
    "pixel_shuffle": ((2, 8, 3, 2), lambda v: F.pixel_shuffle(v, 2)),
    "pixel_unshuffle": ((2, 2, 4, 6), lambda v: F.pixel_unshuffle(v, 2)),
    "max_pool_dilated_ceil": ((2, 3, 9, 8), lambda v: F.max_pool2d(v, 3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    "avg_pool_ceil_exclude_pad": ((2, 3, 7, 8), lambda v: F.avg_pool2d(v, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    "avg_pool_divisor": ((2, 3, 6, 6), lambda v: F.avg_pool2d(v, 2, padding=1, divisor_override=3)),
    "max_pool_unbatched": ((3, 7, 7), lambda v: F.max_pool2d(v, 2, ceil_mode=True)),
    "conv1d": ((2, 3, 9), lambda v: F.conv1d(v, conv1d_w, conv_b, stride=2, padding=1)),
    "conv1d_same_dilated": ((2, 3, 9), lambda v: F.conv1d(v, conv1d_w, None, padding="same", dilation=2)),
    "conv1d_groups_unbatched": ((4, 7), lambda v: F.conv1d(v, conv1d_groups_w, conv_b, groups=2)),
    "conv2d_same_even": ((2, 3, 6, 5), lambda v: F.conv2d(v, conv2d_even_w, None, padding="same")),
    "conv2d_valid": ((2, 3, 6, 5), lambda v: F.conv2d(v, conv2d_even_w, None, padding="valid")),
    "max_pool1d": ((2, 3, 9), lambda v: F.max_pool1d(v, 3, stride=2, padding=1, ceil_mode=True)),
    "avg_pool1d": ((2, 3, 9), lambda v: F.avg_pool1d(v, 4, stride=3, padding=2, count_include_pad=False)),
    "unfold": ((2, 3, 6, 5), lambda v: F.unfold(v, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))),
    "fold": ((2, 12, 9), lambda v: F.fold(v, (5, 6), (2, 2), dilation=1, padding=(1, 0), stride=(2, 2))),
    "local_response_norm": ((2, 5, 3, 2), lambda v: F.local_response_norm(v, 3, alpha=0.5, beta=0.6, k=2.0)),
    "affine_grid": ((2, 2, 3), lambda v: F.affine_grid(v, [2, 3, 4, 5], align_corners=False)),
    "grid_sample_input": ((2, 3, 4, 5), lambda v: F.grid_sample(v, sample_grid, align_corners=False)),
    "grid_sample_grid": ((2, 3, 2, 2), lambda v: F.grid_sample(sample_input, v * 0.9, padding_mode="border", align_corners=True)),
    "grid_sample_nearest": ((2, 3, 4, 5), lambda v: F.grid_sample(v, sample_grid, mode="nearest", align_corners=True)),
    "max_pool3d": ((2, 2, 5, 4, 5), lambda v: F.max_pool3d(v, (2, 3, 2), stride=(1, 1, 2), padding=(1, 1, 0))),
    "avg_pool3d_unbatched": ((2, 4, 4, 5), lambda v: F.avg_pool3d(v, 2, padding=1)),
}
for name, (shape, fn) in functional_cases.items():
    record_case(f"fn_{name}", fn_rng, torch.tensor(fn_rng.standard_normal(shape), dtype=torch.float32), fn)
# Transposed convolutions (their own stream), in the layer format: parameters and their gradients.
convt_rng = np.random.default_rng(19)
transposed = {
    "convt": (nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), (2, 3, 5, 4)),
    "convt_groups_dilated": (nn.ConvTranspose2d(4, 6, 3, padding=2, groups=2, dilation=2, bias=False), (1, 4, 5, 5)),
    "convt1d": (nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1), (2, 3, 6)),
    "conv3d_strided": (nn.Conv3d(4, 6, 2, stride=2, padding=1, groups=2), (2, 4, 4, 5, 4)),
    "conv3d_dilated": (nn.Conv3d(3, 2, 2, padding=1, dilation=2), (1, 3, 4, 3, 4)),
}


def record_layer(name, module, shape, gen):
    """Random parameters, then record_case, then the parameters and their gradients."""
    for p in module.parameters():
        with torch.no_grad():
            p.copy_(torch.tensor(gen.standard_normal(tuple(p.shape)), dtype=torch.float32))
    record_case(f"layer_{name}", gen, torch.tensor(gen.standard_normal(shape), dtype=torch.float32), module)
    for pname, p in module.named_parameters():
        save(f"layer_{name}_param_{pname}", p)
        save(f"layer_{name}_grad_{pname}", p.grad)


for name, (module, shape) in transposed.items():
    record_layer(name, module, shape, convt_rng)
# CTC (its own stream): logits are the input; targets and lengths are fixed.
ctc_rng = np.random.default_rng(23)
ctc_logits = torch.tensor(ctc_rng.standard_normal((12, 3, 5)), dtype=torch.float32)
ctc_targets = torch.tensor([[1, 2, 2, 4], [3, 1, 0, 0], [4, 4, 4, 0]])
save("ctc_logits", ctc_logits)
save("ctc_targets", ctc_targets)
ctc_cases = {
    "mean": lambda v: F.ctc_loss(v.log_softmax(2), ctc_targets, [12, 10, 7], [4, 2, 3]),
    "sum": lambda v: F.ctc_loss(v.log_softmax(2), ctc_targets, [12, 10, 7], [4, 2, 3], reduction="sum"),
    "none_blank4": lambda v: F.ctc_loss(v.log_softmax(2), ctc_targets.clamp(max=3), [12, 10, 7], [4, 2, 3], blank=4, reduction="none"),
    "impossible_zero_infinity": lambda v: F.ctc_loss(v.log_softmax(2), ctc_targets, [12, 10, 4], [4, 2, 3], reduction="none", zero_infinity=True),
}
for name, fn in ctc_cases.items():
    v = ctc_logits.clone().requires_grad_()
    out = fn(v)
    out.sum().backward()
    save(f"ctc_{name}_out", out)
    save(f"ctc_{name}_grad", v.grad)
# Sampling modes, 3-D pool options and the 3-D transposed convolution (their own stream).
vol_rng = np.random.default_rng(29)
wide_grid = torch.tensor(vol_rng.uniform(-2.5, 2.5, (2, 3, 4, 2)), dtype=torch.float32)
volume = torch.tensor(vol_rng.standard_normal((2, 2, 3, 4, 5)), dtype=torch.float32)
volume_grid = torch.tensor(vol_rng.uniform(-1.3, 1.3, (2, 2, 3, 2, 3)), dtype=torch.float32)
for name, value in {"wide_grid": wide_grid, "volume": volume, "volume_grid": volume_grid}.items():
    save(f"vol_{name}", value)
volume_cases = {
    "grid_sample_reflection": ((2, 3, 4, 5), lambda v: F.grid_sample(v, wide_grid, padding_mode="reflection", align_corners=False)),
    "grid_sample_reflection_grid": ((2, 3, 4, 2), lambda v: F.grid_sample(sample_input, v * 2.5, padding_mode="reflection", align_corners=True)),
    "grid_sample_bicubic": ((2, 3, 4, 5), lambda v: F.grid_sample(v, wide_grid * 0.5, mode="bicubic", align_corners=False)),
    "grid_sample_bicubic_grid": ((2, 3, 4, 2), lambda v: F.grid_sample(sample_input, v * 0.6, mode="bicubic", padding_mode="border", align_corners=True)),
    "grid_sample_bicubic_reflection": ((2, 3, 4, 5), lambda v: F.grid_sample(v, wide_grid, mode="bicubic", padding_mode="reflection", align_corners=True)),
    "grid_sample_5d": ((2, 2, 3, 4, 5), lambda v: F.grid_sample(v, volume_grid, align_corners=False)),
    "grid_sample_5d_grid": ((2, 2, 3, 2, 3), lambda v: F.grid_sample(volume, v * 1.2, padding_mode="border", align_corners=True)),
    "grid_sample_5d_nearest_reflection": ((2, 2, 3, 4, 5), lambda v: F.grid_sample(v, volume_grid * 1.5, mode="nearest", padding_mode="reflection")),
    "affine_grid_3d": ((2, 3, 4), lambda v: F.affine_grid(v, [2, 1, 2, 3, 4], align_corners=True)),
    "max_pool3d_ceil_dilated": ((2, 2, 6, 5, 7), lambda v: F.max_pool3d(v, (2, 3, 2), stride=2, padding=(1, 1, 0), dilation=(2, 1, 2), ceil_mode=True)),
    "avg_pool3d_ceil_exclude_pad": ((2, 2, 5, 6, 5), lambda v: F.avg_pool3d(v, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    "avg_pool3d_divisor": ((2, 4, 4, 5), lambda v: F.avg_pool3d(v, 2, stride=(1, 2, 2), divisor_override=5)),
}
for name, (shape, fn) in volume_cases.items():
    record_case(f"vol_{name}", vol_rng, torch.tensor(vol_rng.standard_normal(shape), dtype=torch.float32), fn)
volume_layers = {
    "convt3d": (nn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), (2, 4, 3, 2, 3)),
    "convt3d_dilated": (nn.ConvTranspose3d(3, 2, 2, padding=2, dilation=2, bias=False), (3, 3, 4, 3)),
}
for name, (module, shape) in volume_layers.items():
    record_layer(name, module, shape, vol_rng)
# Scaled dot-product attention (its own stream): query, key, value (and mask), output, upstream
# gradient and the three input gradients per case.
attn_rng = np.random.default_rng(31)
def arand(*shape):
    return torch.tensor(attn_rng.standard_normal(shape), dtype=torch.float32)
padding_mask = torch.zeros(2, 1, 1, 9)
padding_mask[0, ..., 6:] = float("-inf")
bool_mask = torch.tensor(attn_rng.uniform(size=(5, 9)) > 0.3)
bool_mask[2] = False  # a query with every key masked: zeros
attention_cases = {
    "plain": ((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), lambda q, k, v: F.scaled_dot_product_attention(q, k, v)),
    "causal_blocks": ((1, 2, 70, 8), (1, 2, 70, 8), (1, 2, 70, 8), lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
    "causal_rectangular": ((2, 5, 4), (2, 9, 4), (2, 9, 3), lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
    "bool_mask": ((2, 5, 4), (2, 9, 4), (2, 9, 4), lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=bool_mask)),
    "padding_mask_scale": ((2, 2, 5, 4), (2, 2, 9, 4), (2, 2, 9, 4), lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=padding_mask, scale=0.3)),
    "broadcast_batch": ((2, 3, 6, 4), (1, 3, 6, 4), (3, 6, 5), lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
    "long_causal": ((1, 1, 1024, 16), (1, 1, 1024, 16), (1, 1, 1024, 16), lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
    "long_cross": ((1, 2, 300, 16), (1, 2, 1024, 16), (1, 2, 1024, 8), lambda q, k, v: F.scaled_dot_product_attention(q, k, v)),
}
save("attn_padding_mask", padding_mask)
save("attn_bool_mask", bool_mask)
for name, (qs, ks, vs, fn) in attention_cases.items():
    q, k, v = arand(*qs).requires_grad_(), arand(*ks).requires_grad_(), arand(*vs).requires_grad_()
    out = fn(q, k, v)
    up = arand(*out.shape)
    (out * up).sum().backward()
    for part, t in {"q": q, "k": k, "v": v, "out": out, "up": up, "gq": q.grad, "gk": k.grad, "gv": v.grad}.items():
        save(f"attn_{name}_{part}", t)
# A float mask that requires grad: its gradient too.
mask_q, mask_k, mask_v = arand(2, 5, 4).requires_grad_(), arand(2, 9, 4).requires_grad_(), arand(2, 9, 4).requires_grad_()
float_mask = arand(5, 9).requires_grad_()
out = F.scaled_dot_product_attention(mask_q, mask_k, mask_v, attn_mask=float_mask)
up = arand(*out.shape)
(out * up).sum().backward()
for part, t in {"q": mask_q, "k": mask_k, "v": mask_v, "mask": float_mask, "out": out, "up": up, "gmask": float_mask.grad, "gq": mask_q.grad}.items():
    save(f"attn_float_mask_{part}", t)
# Transformer modules (their own stream): each module's state dict, its inputs, outputs, the
# upstream gradient and the gradients of the first input and of every parameter.
tf_rng = np.random.default_rng(37)
def trand(*shape):
    return torch.tensor(tf_rng.standard_normal(shape), dtype=torch.float32)
torch.manual_seed(37)
causal_mask_5 = torch.nn.Transformer.generate_square_subsequent_mask(5)
key_padding = torch.tensor([[False, False, False, True, True, True, True], [False] * 7])
tf_bool_mask = torch.tensor(tf_rng.uniform(size=(5, 7)) > 0.7)
save("tf_key_padding", key_padding)
save("tf_bool_mask", tf_bool_mask)
transformer_cases = {
    # name: (module, input shapes, call returning one tensor)
    "mha_self": (nn.MultiheadAttention(8, 2), [(5, 2, 8)], lambda m, x: m(x, x, x)[0]),
    "mha_weights": (nn.MultiheadAttention(8, 4, batch_first=True), [(2, 5, 8), (2, 7, 8), (2, 7, 8)],
                    lambda m, q, k, v: torch.cat([t.flatten() for t in m(q, k, v, key_padding_mask=key_padding, attn_mask=tf_bool_mask)])),
    "mha_heads_no_average": (nn.MultiheadAttention(8, 2, batch_first=True, bias=False), [(2, 5, 8), (2, 7, 8), (2, 7, 8)],
                    lambda m, q, k, v: torch.cat([t.flatten() for t in m(q, k, v, average_attn_weights=False)])),
    "mha_kvdim_no_weights": (nn.MultiheadAttention(8, 2, kdim=6, vdim=3), [(5, 2, 8), (7, 2, 6), (7, 2, 3)],
                    lambda m, q, k, v: m(q, k, v, key_padding_mask=key_padding, need_weights=False)[0]),
    "mha_causal_unbatched": (nn.MultiheadAttention(8, 2), [(5, 8)],
                    lambda m, x: m(x, x, x, attn_mask=causal_mask_5, is_causal=True, need_weights=False)[0]),
    "encoder_layer": (nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), [(5, 2, 8)], lambda m, x: m(x)),
    "encoder_layer_norm_first_gelu": (nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation="gelu", batch_first=True, norm_first=True),
                    [(2, 5, 8)], lambda m, x: m(x, src_mask=causal_mask_5, is_causal=True)),
    "encoder_layer_padding": (nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True), [(2, 7, 8)],
                    lambda m, x: m(x, src_key_padding_mask=key_padding)),
    "decoder_layer": (nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True), [(2, 5, 8), (2, 7, 8)],
                    lambda m, t, mem: m(t, mem, tgt_mask=causal_mask_5, tgt_is_causal=True, memory_key_padding_mask=key_padding)),
    "decoder_layer_norm_first": (nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, norm_first=True, activation="gelu"),
                    [(5, 2, 8), (7, 2, 8)], lambda m, t, mem: m(t, mem)),
    "encoder_stack": (nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True), 2,
                    norm=nn.LayerNorm(8), enable_nested_tensor=False), [(2, 5, 8)], lambda m, x: m(x, mask=causal_mask_5, is_causal=True)),
    "rms_norm": (nn.RMSNorm([4, 3]), [(2, 4, 3)], lambda m, x: m(x)),
    "rms_norm_eps": (nn.RMSNorm(3, eps=0.1, elementwise_affine=False), [(2, 4, 3)], lambda m, x: m(x)),
    "gelu_tanh": (nn.GELU(approximate="tanh"), [(4, 6)], lambda m, x: m(x)),
}
for name, (module, shapes, call) in transformer_cases.items():
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(trand(*p.shape) * 0.5)
    inputs = [trand(*shape).requires_grad_() for shape in shapes]
    out = call(module, *inputs)
    up = trand(*out.shape)
    (out * up).sum().backward()
    for i, t in enumerate(inputs):
        save(f"tf_{name}_in{i}", t)
    save(f"tf_{name}_out", out)
    save(f"tf_{name}_up", up)
    save(f"tf_{name}_gradin", inputs[0].grad)
    for pname, p in module.named_parameters():
        save(f"tf_{name}_param_{pname}", p)
        save(f"tf_{name}_grad_{pname}", p.grad)
# Embedding with padding_idx: the padding row gets no gradient.
embedding = nn.Embedding(6, 3, padding_idx=-2)
with torch.no_grad():
    embedding.weight.copy_(trand(6, 3))
tokens = torch.tensor([[0, 4, 2], [4, 5, 1]])
out = embedding(tokens)
up = trand(*out.shape)
(out * up).sum().backward()
for part, t in {"weight": embedding.weight, "out": out, "up": up, "grad": embedding.weight.grad}.items():
    save(f"tf_embedding_{part}", t)
# Gradient clipping: the returned norm and the clipped gradients.
for name, kwargs in {"clip_norm_2": dict(max_norm=1.0), "clip_norm_inf": dict(max_norm=0.5, norm_type=float("inf")),
                     "clip_norm_1_no_clip": dict(max_norm=100.0, norm_type=1.0)}.items():
    grads = [trand(3, 4), trand(5)]
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(params, **kwargs)
    save(f"tf_{name}_g0", grads[0])
    save(f"tf_{name}_g1", grads[1])
    save(f"tf_{name}_total", total)
    save(f"tf_{name}_clipped0", params[0].grad)
    save(f"tf_{name}_clipped1", params[1].grad)
print("wrote", len(os.listdir(OUT)), "files to", os.path.normpath(OUT))
