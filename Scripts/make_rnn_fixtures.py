"""PyTorch reference values for the recurrent layers (Tests/NNTests/Fixtures/rnn_*): for each
case the module's parameters, inputs, the flattened outputs (output, hN and cN), a random
upstream gradient, and the gradients of the input, the initial states and every parameter.

    .venv/bin/python Scripts/make_rnn_fixtures.py
"""
import os

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures")
rng = np.random.default_rng(43)


def rand(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32)


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().numpy())


def flat(*tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


def packed_run(module, x, lengths, state=None):
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    out, final = module(packed, state)
    padded, _ = pad_packed_sequence(out)
    return flat(padded, *(final if isinstance(final, tuple) else (final,)))


torch.manual_seed(0)
cases = {
    # name: (module, input shape, state shapes, call)
    "lstm": (nn.LSTM(5, 7), (6, 3, 5), [], lambda m, x: flat(m(x)[0], *m(x)[1])),
    "lstm_deep_bidirectional": (nn.LSTM(5, 7, num_layers=2, bidirectional=True, batch_first=True), (3, 6, 5), [(4, 3, 7), (4, 3, 7)],
                                lambda m, x, h, c: (lambda r: flat(r[0], *r[1]))(m(x, (h, c)))),
    "lstm_projection": (nn.LSTM(5, 7, num_layers=2, proj_size=3), (6, 3, 5), [(2, 3, 3), (2, 3, 7)],
                        lambda m, x, h, c: (lambda r: flat(r[0], *r[1]))(m(x, (h, c)))),
    "gru_bidirectional": (nn.GRU(5, 6, num_layers=2, bidirectional=True), (6, 3, 5), [(4, 3, 6)],
                          lambda m, x, h: (lambda r: flat(r[0], r[1]))(m(x, h))),
    "rnn_relu_no_bias": (nn.RNN(5, 6, nonlinearity="relu", bias=False, num_layers=2), (6, 3, 5), [],
                         lambda m, x: (lambda r: flat(r[0], r[1]))(m(x))),
    "rnn_unbatched": (nn.RNN(5, 6), (6, 5), [(1, 6)], lambda m, x, h: (lambda r: flat(r[0], r[1]))(m(x, h))),
    "lstm_packed_bidirectional": (nn.LSTM(5, 7, bidirectional=True), (6, 3, 5), [],
                                  lambda m, x: packed_run(m, x, [6, 3, 5])),
    "gru_packed_state": (nn.GRU(5, 6, num_layers=2), (6, 3, 5), [(2, 3, 6)], lambda m, x, h: packed_run(m, x, [2, 6, 4], h)),
    "lstm_cell": (nn.LSTMCell(5, 7), (3, 5), [(3, 7), (3, 7)], lambda m, x, h, c: flat(*m(x, (h, c)))),
    "gru_cell": (nn.GRUCell(5, 6), (3, 5), [(3, 6)], lambda m, x, h: m(x, h)),
    "rnn_cell_unbatched": (nn.RNNCell(5, 6, nonlinearity="relu"), (5,), [(6,)], lambda m, x, h: m(x, h)),
}
for name, (module, shape, state_shapes, call) in cases.items():
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(rand(*p.shape) * 0.5)
    x = rand(*shape).requires_grad_()
    states = [rand(*s).requires_grad_() for s in state_shapes]
    out = call(module, x, *states)
    up = rand(*out.shape)
    (out * up).sum().backward()
    save(f"rnn_{name}_x", x)
    save(f"rnn_{name}_gx", x.grad)
    for i, s in enumerate(states):
        save(f"rnn_{name}_s{i}", s)
        save(f"rnn_{name}_gs{i}", s.grad)
    save(f"rnn_{name}_out", out)
    save(f"rnn_{name}_up", up)
    for pname, p in module.named_parameters():
        save(f"rnn_{name}_param_{pname}", p)
        save(f"rnn_{name}_grad_{pname}", p.grad)
# Packing: a padded batch, its packed data and batch sizes, and the round trip.
padded = rand(5, 3, 2)
packed = pack_padded_sequence(padded, [3, 5, 2], enforce_sorted=False)
save("rnn_pack_padded", padded)
save("rnn_pack_data", packed.data)
save("rnn_pack_batch_sizes", packed.batch_sizes)
save("rnn_pack_sorted_indices", packed.sorted_indices)
print("wrote the recurrent fixtures")
