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

sys.path.insert(0, os.path.dirname(__file__))
import make_autograd_fixtures as base  # noqa: E402

IN = base.OUT
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "AutogradTests", "GradGradFixtures")
rng = np.random.default_rng(36)

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
    print("wrote", len(os.listdir(OUT)), "files to", os.path.normpath(OUT), "; excluded:", excluded)


if __name__ == "__main__":
    main()
