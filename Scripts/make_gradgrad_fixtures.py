"""Writes PyTorch's second derivatives for the Autograd sweep (GradGradTests).

Run with a Python that has torch (see README): `.venv/bin/python Scripts/make_gradgrad_fixtures.py`,
after `make_autograd_fixtures.py` (its cases, and its committed inputs and upstream gradients, are
reused). For each case, in float64: `g = grad(sum(f(*x) * w), x, create_graph=True)` with `w` the
case's upstream gradient (`<case>_up.npy`), then the gradients of `s = sum_i sum(g_i * v_i)`
(PyTorch's gradgradcheck quantity, contracted with random `v_i`, written as `<case>_v<i>.npy`)
with respect to every input (`<case>_gg<i>.npy`) and to `w` (`<case>_ggw.npy`). Cases PyTorch
cannot differentiate twice go to `excluded.json` with PyTorch's message.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import make_autograd_fixtures as base  # noqa: E402

IN = base.OUT
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "AutogradTests", "GradGradFixtures")
NN_OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "GradGradFixtures")
rng = np.random.default_rng(36)
# The NN cases draw from their own stream, so adding a formula case leaves their inputs alone.
nn_rng = np.random.default_rng(37)

# The cases that compute in double and return float32 (`.double()...float()`) stay in double here.
torch.Tensor.float = lambda self: self
# Tensors the cases make themselves (scatter's target, quantile's q) are float64 too.
torch.set_default_dtype(torch.float64)


def load(name):
    return torch.tensor(np.load(os.path.join(IN, name + ".npy")), dtype=torch.float64)


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), np.array(t.detach().numpy(force=True), order="C"))


def second_derivatives(fn, xs, w, vs):
    """d/d(x, w) of sum_i <grad_x_i sum(f(x) * w), v_i>; zeros where it does not depend on them."""
    out = fn(*xs)
    firsts = torch.autograd.grad((out * w).sum(), xs, create_graph=True, allow_unused=True)
    terms = [(g * v).sum() for g, v in zip(firsts, vs) if g is not None and g.requires_grad]
    if not terms:
        return [torch.zeros_like(t) for t in xs + [w]]
    grads = torch.autograd.grad(sum(terms), xs + [w], allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for t, g in zip(xs + [w], grads)]


def make(shape, kind="n"):
    """A float64 input: normal, positive (p), a probability (q) or distinct values (i)."""
    if kind == "p":
        data = nn_rng.uniform(0.5, 2.0, shape)
    elif kind == "q":
        data = nn_rng.uniform(0.05, 0.95, shape)
    elif kind == "u":
        data = nn_rng.uniform(-0.9, 0.9, shape)
    elif kind == "i":
        data = nn_rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 1.02
    else:
        data = nn_rng.standard_normal(shape)
    return torch.tensor(data, dtype=torch.float64)


def recurrent(mode, reverse=False):
    """One layer, one direction, through torch's own recurrent op: inputs x, the weights, h0 (c0)."""
    def run(x, w_ih, w_hh, b_ih, b_hh, h0, c0=None):
        if reverse:
            x = x.flip(0)
        weights = [w_ih, w_hh, b_ih, b_hh]
        if mode == "LSTM":
            out, h, c = torch._VF.lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)), weights, True, 1, 0.0, False, False, False)
            finals = [h[0].flatten(), c[0].flatten()]
        else:
            fn = torch._VF.gru if mode == "GRU" else torch._VF.rnn_tanh
            out, h = fn(x, h0.unsqueeze(0), weights, True, 1, 0.0, False, False, False)
            finals = [h[0].flatten()]
        if reverse:
            out = out.flip(0)
        return torch.cat([out.flatten()] + finals)
    return run


# The fused ops of the NN module (their double backward), as NNTests/GradGradTests.swift spells them.
CE_TARGET = torch.tensor([1, 0, 4, 2])
POS_WEIGHT = torch.tensor([0.5, 1.0, 2.0, 3.0], dtype=torch.float64)
CE_WEIGHT = torch.tensor([0.5, 1.0, 1.5, 2.0, 0.8], dtype=torch.float64)
nn_cases = {
    "conv1d_grouped": ([(2, 4, 7), (6, 2, 3), (6,)], lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, groups=2)),
    "conv2d": ([(2, 3, 5, 5), (4, 3, 3, 3), (4,)], lambda x, w, b: F.conv2d(x, w, b, padding=1)),
    "conv2d_strided_dilated": ([(1, 4, 7, 7), (6, 2, 3, 3)], lambda x, w: F.conv2d(x, w, None, stride=2, dilation=2, groups=2)),
    "conv3d": ([(1, 2, 4, 4, 4), (3, 2, 2, 2, 2), (3,)], lambda x, w, b: F.conv3d(x, w, b, stride=1, padding=1)),
    "conv_transpose1d": ([(2, 4, 5), (4, 3, 3), (3,)], lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2)),
    "conv_transpose2d_grouped": ([(1, 4, 3, 3), (4, 2, 3, 3), (4,)],
                                 lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, output_padding=1, groups=2)),
    "batch_norm": ([(4, 3, 5), (3,), (3,)], lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
    "batch_norm_2d": ([(3, 2, 3, 3), (2,), (2,)], lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
    "layer_norm": ([(3, 4, 5), (5,), (5,)], lambda x, w, b: F.layer_norm(x, [5], w, b)),
    "group_norm": ([(2, 4, 3), (4,), (4,)], lambda x, w, b: F.group_norm(x, 2, w, b)),
    "instance_norm": ([(2, 3, 5), (3,), (3,)], lambda x, w, b: F.instance_norm(x, weight=w, bias=b)),
    "sdpa": ([(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3)], lambda q, k, v: F.scaled_dot_product_attention(q, k, v)),
    "sdpa_causal": ([(2, 4, 4), (2, 4, 4), (2, 4, 3)], lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
    "sdpa_mask": ([(2, 3, 4), (2, 5, 4), (2, 5, 2), (3, 5)],
                  lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m)),
    "max_pool2d": ([((1, 2, 5, 5), "i")], lambda x: F.max_pool2d(x, 2, 2)),
    "avg_pool2d": ([(1, 2, 5, 5)], lambda x: F.avg_pool2d(x, 3, 2, padding=1)),
    "adaptive_avg_pool2d": ([(1, 2, 5, 6)], lambda x: F.adaptive_avg_pool2d(x, (2, 3))),
    "interpolate_bilinear": ([(1, 2, 3, 4)], lambda x: F.interpolate(x, size=(5, 6), mode="bilinear", align_corners=False)),
    "interpolate_nearest": ([(1, 2, 3, 3)], lambda x: F.interpolate(x, scale_factor=2.0, mode="nearest")),
    "embedding": ([(6, 3)], lambda w: F.embedding(torch.tensor([[0, 2, 2], [5, 1, 0]]), w)),
    "cross_entropy": ([(4, 5)], lambda x: F.cross_entropy(x, CE_TARGET)),
    "cross_entropy_smoothing": ([(4, 5)], lambda x: F.cross_entropy(x, CE_TARGET, weight=CE_WEIGHT, label_smoothing=0.1)),
    "cross_entropy_probabilities": ([(4, 5), ((4, 5), "q")], lambda x, t: F.cross_entropy(x, t)),
    "nll_loss": ([(4, 5)], lambda x: F.nll_loss(x.log_softmax(1), CE_TARGET, reduction="sum")),
    "mse_loss": ([(3, 4), (3, 4)], lambda x, t: F.mse_loss(x, t)),
    "binary_cross_entropy": ([((3, 4), "q"), ((3, 4), "q")], lambda x, t: F.binary_cross_entropy(x, t)),
    "binary_cross_entropy_with_logits": ([(3, 4), ((3, 4), "q")],
                                         lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=POS_WEIGHT)),
    "huber_loss": ([(3, 4), (3, 4)], lambda x, t: F.huber_loss(x, t, delta=0.8)),
    "smooth_l1_loss": ([(3, 4), (3, 4)], lambda x, t: F.smooth_l1_loss(x, t, beta=0.7)),
    "kl_div": ([(3, 4), ((3, 4), "q")], lambda x, t: F.kl_div(x.log_softmax(1), t, reduction="batchmean")),
    "poisson_nll_loss": ([(3, 4), ((3, 4), "p")], lambda x, t: F.poisson_nll_loss(x, t)),
    "gaussian_nll_loss": ([(3, 4), (3, 4), ((3, 4), "p")], lambda x, t, v: F.gaussian_nll_loss(x, t, v)),
    "soft_margin_loss": ([(3, 4)], lambda x: F.soft_margin_loss(x, torch.tensor([[1.0, -1.0, 1.0, 1.0]] * 3))),
    "glu": ([(3, 4)], lambda x: F.glu(x, 1)),
    "softplus": ([(3, 4)], lambda x: F.softplus(x, beta=2.0)),
    "logsigmoid": ([(3, 4)], F.logsigmoid),
    "elu": ([(3, 4)], F.elu),
    "selu": ([(3, 4)], F.selu),
    "celu": ([(3, 4)], lambda x: F.celu(x, alpha=0.7)),
    "mish": ([(3, 4)], F.mish),
    "tanhshrink": ([(3, 4)], F.tanhshrink),
    "leaky_relu": ([(3, 4)], lambda x: F.leaky_relu(x, 0.2)),
    "pad_reflect": ([(1, 2, 4, 5)], lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect")),
    "pad_replicate": ([(1, 2, 4, 5)], lambda x: F.pad(x, (1, 2, 2, 1), mode="replicate")),
    "pad_circular": ([(1, 2, 4, 5)], lambda x: F.pad(x, (1, 2, 2, 1), mode="circular")),
    "pixel_shuffle": ([(1, 8, 2, 3)], lambda x: F.pixel_shuffle(x, 2)),
    "unfold": ([(1, 2, 4, 5)], lambda x: F.unfold(x, (2, 3), padding=(1, 0), stride=(1, 2))),
    "fold": ([(1, 8, 6)], lambda x: F.fold(x, (3, 4), (2, 2))),
    "local_response_norm": ([(1, 4, 3, 3)], lambda x: F.local_response_norm(x, 3, alpha=0.5)),
    "max_pool1d": ([((2, 3, 7), "i")], lambda x: F.max_pool1d(x, 3, 2)),
    "avg_pool1d": ([(2, 3, 7)], lambda x: F.avg_pool1d(x, 3, 2, padding=1)),
    "max_pool3d": ([((1, 1, 4, 4, 4), "i")], lambda x: F.max_pool3d(x, 2)),
    "avg_pool3d": ([(1, 2, 4, 4, 4)], lambda x: F.avg_pool3d(x, 3, 2, padding=1)),
    "conv_transpose3d": ([(1, 2, 3, 3, 3), (2, 2, 2, 2, 2), (2,)], lambda x, w, b: F.conv_transpose3d(x, w, b, stride=2)),
    "interpolate_bicubic": ([(1, 1, 4, 4)], lambda x: F.interpolate(x, size=(6, 5), mode="bicubic", align_corners=True)),
    "grid_sample": ([(1, 2, 4, 5), ((1, 3, 3, 2), "u")], lambda x, g: F.grid_sample(x, g, align_corners=False)),
    "affine_grid": ([(2, 2, 3)], lambda t: F.affine_grid(t, [2, 1, 3, 4], align_corners=False)),
    "margin_ranking_loss": ([(5,), (5,)], lambda a, b: F.margin_ranking_loss(a, b, torch.tensor([1.0, -1, 1, -1, 1]), margin=0.1)),
    "hinge_embedding_loss": ([(2, 3)], lambda x: F.hinge_embedding_loss(x, torch.tensor([[1.0, -1, -1], [-1, 1, -1]]))),
    "multilabel_soft_margin_loss": ([(3, 4)], lambda x: F.multilabel_soft_margin_loss(x, torch.tensor([[1.0, 0, 1, 0]] * 3))),
    "cosine_embedding_loss": ([(3, 4), (3, 4)], lambda a, b: F.cosine_embedding_loss(a, b, torch.tensor([1.0, -1, 1]))),
    "triplet_margin_loss": ([(3, 4), (3, 4), (3, 4)], lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0)),
    "multi_margin_loss": ([(3, 4)], lambda x: F.multi_margin_loss(x, torch.tensor([1, 0, 3]))),
    "ctc_loss": ([(5, 1, 3)], lambda x: F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2]]), [5], [2])),
    "lstm": ([(3, 2, 3), (16, 3), (16, 4), (16,), (16,), (2, 4), (2, 4)], recurrent("LSTM")),
    "lstm_reverse": ([(3, 2, 3), (16, 3), (16, 4), (16,), (16,), (2, 4), (2, 4)], recurrent("LSTM", reverse=True)),
    "gru": ([(3, 2, 3), (12, 3), (12, 4), (12,), (12,), (2, 4)], recurrent("GRU")),
    "rnn_tanh": ([(3, 2, 3), (4, 3), (4, 4), (4,), (4,), (2, 4)], recurrent("RNN")),
    "lstm_cell": ([(2, 3), (16, 3), (16, 4), (16,), (16,), (2, 4), (2, 4)],
                  lambda x, wi, wh, bi, bh, h, c: torch.cat([t.flatten() for t in torch._VF.lstm_cell(x, (h, c), wi, wh, bi, bh)])),
    "gru_cell": ([(2, 3), (12, 3), (12, 4), (12,), (12,), (2, 4)],
                 lambda x, wi, wh, bi, bh, h: torch._VF.gru_cell(x, h, wi, wh, bi, bh)),
}


def write_scenarios():
    """A tanh MLP's Hessian-vector product and a WGAN-GP critic step, as GradGradTests runs them."""
    g = np.random.default_rng(38)
    t = lambda *shape: torch.tensor(g.standard_normal(shape), dtype=torch.float64)
    params = [t(4, 3).requires_grad_(), t(4).requires_grad_(), t(2, 4).requires_grad_(), t(2).requires_grad_()]
    x, y = t(5, 3), t(5, 2)
    vs = [t(*p.shape) for p in params]

    def mlp(w1, b1, w2, b2):
        return ((torch.tanh(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean()

    grads = torch.autograd.grad(mlp(*params), params, create_graph=True)
    hvp = torch.autograd.grad(sum((gr * v).sum() for gr, v in zip(grads, vs)), params)
    for i, (p, v, h) in enumerate(zip(params, vs, hvp)):
        np.save(os.path.join(OUT, f"mlp_param{i}.npy"), p.detach().numpy())
        np.save(os.path.join(OUT, f"mlp_v{i}.npy"), v.numpy())
        np.save(os.path.join(OUT, f"mlp_hvp{i}.npy"), h.numpy())
    np.save(os.path.join(OUT, "mlp_x.npy"), x.numpy())
    np.save(os.path.join(OUT, "mlp_y.npy"), y.numpy())

    critic = [t(4, 3).requires_grad_(), t(4).requires_grad_(), t(1, 4).requires_grad_()]
    real, fake, mix = t(5, 3), t(5, 3), torch.tensor(g.uniform(0, 1, (5, 1)), dtype=torch.float64)

    def score(w1, b1, w2, inputs):
        return torch.tanh(inputs @ w1.T + b1) @ w2.T

    between = (mix * real + (1 - mix) * fake).requires_grad_()
    slopes = torch.autograd.grad(score(*critic, between).sum(), between, create_graph=True)[0]
    penalty = 10 * ((slopes.norm(dim=1) - 1) ** 2).mean()
    loss = score(*critic, fake).mean() - score(*critic, real).mean() + penalty
    loss_grads = torch.autograd.grad(loss, critic)
    for i, (p, gr) in enumerate(zip(critic, loss_grads)):
        np.save(os.path.join(OUT, f"wgan_param{i}.npy"), p.detach().numpy())
        np.save(os.path.join(OUT, f"wgan_grad{i}.npy"), gr.numpy())
    for name, value in [("real", real), ("fake", fake), ("mix", mix), ("penalty", penalty), ("loss", loss)]:
        np.save(os.path.join(OUT, f"wgan_{name}.npy"), value.detach().numpy())


def write_nn_cases():
    os.makedirs(NN_OUT, exist_ok=True)
    for f in os.listdir(NN_OUT):
        os.remove(os.path.join(NN_OUT, f))
    excluded = {}
    for name, (specs, fn) in nn_cases.items():
        xs = [make(*(spec if isinstance(spec[0], tuple) else (spec,))).requires_grad_() for spec in specs]
        out = fn(*xs)
        w = make(tuple(out.shape)).requires_grad_()
        vs = [make(tuple(x.shape)) for x in xs]
        try:
            results = second_derivatives(fn, xs, w, vs)
        except RuntimeError as error:
            excluded[name] = str(error).split("\n")[0]
            results = [torch.full_like(t, float("nan")) for t in xs + [w]]
        for i, (x, v, g) in enumerate(zip(xs, vs, results)):
            np.save(os.path.join(NN_OUT, f"{name}_in{i}.npy"), x.detach().numpy())
            np.save(os.path.join(NN_OUT, f"{name}_v{i}.npy"), v.numpy())
            np.save(os.path.join(NN_OUT, f"{name}_gg{i}.npy"), g.detach().numpy(force=True))
        np.save(os.path.join(NN_OUT, f"{name}_up.npy"), w.detach().numpy())
        np.save(os.path.join(NN_OUT, f"{name}_out.npy"), out.detach().numpy())
        np.save(os.path.join(NN_OUT, f"{name}_ggw.npy"), results[-1].detach().numpy(force=True))
    with open(os.path.join(NN_OUT, "excluded.json"), "w") as f:
        json.dump(excluded, f, indent=0, sort_keys=True)
    print("wrote", len(os.listdir(NN_OUT)), "files to", os.path.normpath(NN_OUT), "; excluded:", excluded)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    excluded = {}
    for name, (specs, fn) in base.cases.items():
        xs = [load(f"{name}_in{i}").requires_grad_() for i in range(len(specs))]
        w = load(f"{name}_up").requires_grad_()
        vs = [torch.tensor(rng.standard_normal(tuple(x.shape)), dtype=torch.float64) for x in xs]
        try:
            results = second_derivatives(fn, xs, w, vs)
        except RuntimeError as error:
            excluded[name] = str(error).split("\n")[0]
            continue
        for i, v in enumerate(vs):
            save(f"{name}_v{i}", v)
        for i, g in enumerate(results[:-1]):
            save(f"{name}_gg{i}", g)
        save(f"{name}_ggw", results[-1])
    with open(os.path.join(OUT, "excluded.json"), "w") as f:
        json.dump(excluded, f, indent=0, sort_keys=True)
    write_scenarios()
    print("wrote", len(os.listdir(OUT)), "files to", os.path.normpath(OUT), "; excluded:", excluded)
    write_nn_cases()


if __name__ == "__main__":
    main()
