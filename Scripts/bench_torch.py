"""Measures PyTorch on the cases of the Swift `Benchmarks` executable, with the same thread
counts; prints one JSON object of seconds per call.

    .venv/bin/python Scripts/bench_torch.py [text | =name | --list | --serve]
    .venv/bin/python Scripts/bench_torch.py gpt-gemm-gflops [threads]

`text` measures the cases whose names contain it; `=name` that case alone (only its group's
set-up runs); `--list` prints every case's name; `--serve` reads case names from standard
input, one a line, and answers each with a JSON line `{"name": seconds}` (Scripts/compare.py
keeps one such process, so PyTorch is imported once while the sides alternate).
`gpt-gemm-gflops` prints the GFLOP/s of the GPT step's matrix products, as `Benchmarks
gpt-gemm-gflops` does for this library."""
import json
import os
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nanogpt_reference import GPT, optimizer_for  # noqa: E402
from torch_models import ResNet18  # noqa: E402

threads = torch.get_num_threads()


def measure(fn, inner, repeats=7):
    for _ in range(max(1, inner // 10)):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter_ns() - start) / 1e9 / inner)
    return sorted(samples)[len(samples) // 2]


class Selection:
    """Which cases a run measures: every case (None), names containing `text`, `=name` alone,
    or `--list` (names only)."""

    def __init__(self, argument):
        self.listing = argument == "--list"
        self.exact = argument[1:] if argument and argument.startswith("=") else None
        self.text = None if self.listing or self.exact is not None else argument

    def includes(self, name):
        if self.listing:
            return False
        if self.exact is not None:
            return name == self.exact
        return self.text is None or self.text in name

    def may_include(self, prefixes):
        return self.exact is None or any(self.exact.startswith(p) for p in prefixes)


selection = Selection(None)
results = {}


def record(name, fn, inner, repeats=7):
    """Measures case `name` unless the selection leaves it out."""
    if selection.listing:
        results[name] = 0
    elif selection.includes(name):
        results[name] = measure(fn, inner, repeats)


def calls(estimated):
    return max(1, int(0.02 / max(estimated, 1e-9)))


sections = []


def section(*prefixes):
    """Registers a group of cases whose names start with one of `prefixes`."""
    def register(fn):
        sections.append((prefixes, fn))
        return fn
    return register


@section("matmul_n")
def matmuls():
    for n in [64, 128, 256, 512, 1024, 2048]:
        a, b = torch.randn(n, n), torch.randn(n, n)
        for t in sorted({1, threads}):
            torch.set_num_threads(t)
            record(f"matmul_n{n}_t{t}", lambda: a @ b, calls(2 * n**3 / 50e9), repeats=5)


@section("add_1e", "mul_1e", "exp_1e", "sum_1e")
def elementwise():
    for label, count in [("1e6", 1_000_000), ("1e7", 10_000_000)]:
        x, y, out = torch.randn(count), torch.randn(count), torch.empty(count)
        inner = 10 if count >= 10_000_000 else 100
        record(f"add_{label}", lambda: x + y, inner)
        record(f"add_{label}_out", lambda: torch.add(x, y, out=out), inner)
        record(f"mul_{label}", lambda: x * y, inner)
        record(f"mul_{label}_out", lambda: torch.mul(x, y, out=out), inner)
        record(f"exp_{label}", lambda: x.exp(), inner)
        record(f"exp_{label}_out", lambda: torch.exp(x, out=out), inner)
        record(f"sum_{label}", lambda: x.sum(), inner)


@section("sum_dim", "broadcast_add", "transpose_contiguous", "rand_", "randn_")
def reductions():
    square, row = torch.randn(1000, 1000), torch.randn(1000)
    record("sum_dim0_1000x1000", lambda: square.sum(0), 50)
    record("sum_dim1_1000x1000", lambda: square.sum(1), 50)
    record("broadcast_add_1000x1000", lambda: square + row, 50)
    record("transpose_contiguous_1000x1000", lambda: square.t().contiguous(), 50)
    record("rand_1000x1000", lambda: torch.rand(1000, 1000), 10)
    record("randn_1000x1000", lambda: torch.randn(1000, 1000), 10)


@section("add_1elem")
def overhead():
    one = torch.tensor([1.0])
    one_grad = torch.tensor([1.0], requires_grad=True)
    record("add_1elem", lambda: one + one, 20_000)
    record("add_1elem_requires_grad", lambda: one_grad + one_grad, 20_000)


@section("chain100")
def chains():
    small = torch.randn(16)
    small_grad = torch.randn(16, requires_grad=True)

    def chain(x):
        y = x
        for i in range(50):
            y = y * 1.0001
            y = y + i * 1e-4
        return y

    def forward_backward():
        chain(small_grad).sum().backward()
        small_grad.grad = None

    record("chain100_forward", lambda: chain(small), 200)
    record("chain100_forward_requires_grad", lambda: chain(small_grad), 200)
    record("chain100_forward_backward", forward_backward, 100)


@section("mlp_sgd_step")
def mlp_step():
    mlp = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    sgd = torch.optim.SGD(mlp.parameters(), lr=0.01, momentum=0.9)
    batch, targets = torch.randn(64, 784), torch.randint(0, 10, (64,))

    def step():
        sgd.zero_grad()
        torch.nn.functional.cross_entropy(mlp(batch), targets).backward()
        sgd.step()

    record("mlp_sgd_step", step, 50)


@section("conv2d_forward_backward")
def small_convolution():
    conv = torch.nn.Conv2d(16, 32, 3, padding=1)
    images = torch.randn(8, 16, 32, 32)

    def conv_step():
        conv.zero_grad()
        conv(images).sum().backward()

    record("conv2d_forward_backward", conv_step, 3, repeats=5)


# The Swift side's ConvolutionBenchmark.shapes: (in, out, kernel, stride, size, groups).
conv_shapes = [(64, 64, 3, 1, 56, 1), (64, 128, 3, 2, 56, 1), (64, 128, 1, 2, 56, 1), (128, 128, 3, 1, 28, 1),
               (256, 256, 3, 1, 14, 1), (256, 512, 1, 2, 14, 1), (512, 512, 3, 1, 7, 1), (64, 64, 3, 1, 56, 64)]


@section("conv2d_")
def convolutions():
    for cin, cout, kernel, stride, size, groups in conv_shapes:
        layer = torch.nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False)
        conv_input = torch.randn(8, cin, size, size)
        name = (f"conv2d_{kernel}x{kernel}_{cin}to{cout}_{size}" + ("_s2" if stride == 2 else "")
                + ("_dw" if groups > 1 else ""))
        flops = 2 * 8 * cout * cin // groups * kernel * kernel * (size // stride) ** 2

        def conv_forward(layer=layer, conv_input=conv_input):
            with torch.no_grad():
                layer(conv_input)

        def conv_forward_backward(layer=layer, conv_input=conv_input):
            layer.zero_grad()
            layer(conv_input).sum().backward()

        for thread_count in [1, threads]:
            torch.set_num_threads(thread_count)
            record(f"{name}_forward_t{thread_count}", conv_forward, calls(flops / 60e9 / thread_count), repeats=5)
            record(f"{name}_forward_backward_t{thread_count}", conv_forward_backward,
                   calls(3 * flops / 60e9 / thread_count), repeats=5)


@section("pool2d_")
def pooling():
    # 2-D pooling of 8 x 64 x 112 x 112, as the Swift side's pool2d_* cases.
    pool_input = torch.randn(8, 64, 112, 112)
    pool_cases = {
        "max_3x3_s2": lambda v: torch.nn.functional.max_pool2d(v, 3, 2, 1),
        "avg_3x3_s2": lambda v: torch.nn.functional.avg_pool2d(v, 3, 2, 1),
        "adaptive_avg_to7": lambda v: torch.nn.functional.adaptive_avg_pool2d(v, (7, 7)),
    }
    for name, pool in pool_cases.items():

        def pool_forward(pool=pool):
            with torch.no_grad():
                pool(pool_input)

        def pool_forward_backward(pool=pool):
            pool(pool_input.detach().requires_grad_()).sum().backward()

        for thread_count in [1, threads]:
            torch.set_num_threads(thread_count)
            record(f"pool2d_{name}_forward_t{thread_count}", pool_forward, 5, repeats=5)
            record(f"pool2d_{name}_forward_backward_t{thread_count}", pool_forward_backward, 3, repeats=5)


@section("resnet18_")
def resnet():
    model = ResNet18()
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for thread_count in [1, threads]:
        torch.set_num_threads(thread_count)
        for size in [112, 128]:
            pixels, labels = torch.randn(8, 3, size, size), torch.randint(0, 1000, (8,))
            model.train()

            def resnet_step(pixels=pixels, labels=labels):
                sgd.zero_grad()
                torch.nn.functional.cross_entropy(model(pixels), labels).backward()
                sgd.step()

            record(f"resnet18_train_step_{size}_t{thread_count}", resnet_step, 2, repeats=3)
        model.eval()
        for batch_size in [1, 8]:
            pixels = torch.randn(batch_size, 3, 224, 224)

            def resnet_inference(pixels=pixels):
                with torch.no_grad():
                    model(pixels)

            record(f"resnet18_inference_b{batch_size}_t{thread_count}", resnet_inference,
                   5 if batch_size == 1 else 2, repeats=3)


@section("sdpa_")
def attention():
    for t in [64, 256, 1024]:
        q, k, v = (torch.randn(12, 4, t, 32, requires_grad=True) for _ in range(3))
        upstream = torch.randn(12, 4, t, 32)

        def attention_step():
            for x in (q, k, v):
                x.grad = None
            (torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True) * upstream).sum().backward()

        for thread_count in [1, threads]:
            torch.set_num_threads(thread_count)
            flops = 4 * 12 * 4 * t * t * 32 * 3.5 / 2
            record(f"sdpa_causal_forward_backward_T{t}_t{thread_count}", attention_step,
                   calls(flops / 40e9 / thread_count), repeats=5)


@section("gpt_train_step")
def gpt_step():
    # One AdamW step of the GPT example's model (Scripts/nanogpt_reference.py) at its batch.
    gpt = GPT(65, 64)
    optimizer = optimizer_for(gpt)
    batch = torch.randint(0, 65, (12, 65))
    inputs, targets = batch[:, :64].contiguous(), batch[:, 1:].contiguous()

    def step():
        optimizer.zero_grad()
        gpt(inputs, targets).backward()
        torch.nn.utils.clip_grad_norm_(gpt.parameters(), 1.0)
        optimizer.step()

    for thread_count in [1, threads]:
        torch.set_num_threads(thread_count)
        record(f"gpt_train_step_t{thread_count}", step, 10, repeats=5)


@section("lstm_train_step", "gru_forward")
def recurrent():
    embedding = torch.nn.Embedding(65, 64)
    lstm = torch.nn.LSTM(64, 256, num_layers=2)
    head = torch.nn.Linear(256, 65)
    optimizer = torch.optim.Adam(list(embedding.parameters()) + list(lstm.parameters()) + list(head.parameters()),
                                 lr=1e-3)
    tokens = torch.randint(0, 65, (64, 32))
    targets = torch.randint(0, 65, (64, 32))
    gru = torch.nn.GRU(64, 256, num_layers=2)
    gru_input = torch.randn(64, 32, 64)

    def lstm_step():
        optimizer.zero_grad()
        hidden = lstm(embedding(tokens))[0]
        torch.nn.functional.cross_entropy(head(hidden).view(-1, 65), targets.view(-1)).backward()
        optimizer.step()

    def gru_forward():
        with torch.no_grad():
            gru(gru_input)

    for thread_count in [1, threads]:
        torch.set_num_threads(thread_count)
        record(f"lstm_train_step_t{thread_count}", lstm_step, 5, repeats=5)
        record(f"gru_forward_t{thread_count}", gru_forward, 5, repeats=5)


@section("dataloader_epoch")
def data_loading():
    images, labels = torch.randn(4096, 3, 32, 32), torch.randint(0, 10, (4096,))
    for workers in [0, 2]:
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(images, labels), batch_size=64, shuffle=True, num_workers=workers)

        def epoch():
            for _ in loader:
                pass

        record(f"dataloader_epoch_w{workers}", epoch, 2, repeats=5)


@section("interpolate_")
def resampling():
    photos = torch.randn(8, 3, 224, 224)
    record(
        "interpolate_bilinear_antialias",
        lambda: torch.nn.functional.interpolate(photos, size=[112, 112], mode="bilinear", antialias=True), 5, repeats=5)


@section("pt_save", "pt_load")
def files():
    state = ResNet18().state_dict()
    pt_file = os.path.join(tempfile.gettempdir(), f"bench-resnet18-{os.getpid()}.pt")
    record("pt_save_resnet18", lambda: torch.save(state, pt_file), 2, repeats=5)
    torch.save(state, pt_file)
    record("pt_load_resnet18", lambda: torch.load(pt_file, weights_only=True), 2, repeats=5)
    os.remove(pt_file)


def run(argument):
    """Runs the sections the selection may include; returns {case: seconds} (or names)."""
    global selection, results
    selection, results = Selection(argument), {}
    torch.manual_seed(0)
    for prefixes, body in sections:
        if selection.may_include(prefixes):
            body()
            torch.set_num_threads(threads)
    return results


def gpt_gemm_gflops(thread_count):
    """GFLOP/s of the GPT step's products (768 tokens through each linear layer's widths)."""
    torch.set_num_threads(thread_count)
    tokens = 768
    print("| layer (in -> out) | forward | input gradient | weight gradient |")
    print("|---|---|---|---|")
    for width_in, width_out in [(128, 384), (128, 128), (128, 512), (512, 128), (128, 65)]:
        x, w, g = torch.randn(tokens, width_in), torch.randn(width_out, width_in), torch.randn(tokens, width_out)
        flops = 2 * tokens * width_in * width_out
        products = [lambda: x @ w.t(), lambda: g @ w, lambda: g.t() @ x]
        rates = [flops / measure(p, calls(flops / 100e9)) / 1e9 for p in products]
        print(f"| {width_in} -> {width_out} | " + " | ".join(f"{r:.0f}" for r in rates) + " |")


if __name__ == "__main__":
    argument = sys.argv[1] if len(sys.argv) > 1 else None
    if argument == "gpt-gemm-gflops":
        gpt_gemm_gflops(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    elif argument == "--serve":
        for line in sys.stdin:
            print(json.dumps(run("=" + line.strip())), flush=True)
    elif argument == "--list":
        print(json.dumps(sorted(run(argument))))
    else:
        print(json.dumps(run(argument), indent=1, sort_keys=True))
