"""PyTorch's side of the .pt interop tests.

    pt_interop.py fixtures FOLDER   writes .pt files with torch.save (the committed copies in
                                    Tests/TensorTests/Fixtures/pt come from this)
    pt_interop.py resnet FOLDER     writes resnet18.pth (torchvision's names) with an input
                                    and PyTorch's eval-mode logits for it
    pt_interop.py check FOLDER      loads the files the Swift tests wrote, with
                                    torch.load(weights_only=True), and checks them
"""
import io
import os
import sys
import zipfile

import numpy as np
import torch

DTYPES = {
    "f32": torch.float32, "f64": torch.float64, "f16": torch.float16, "bf16": torch.bfloat16,
    "i64": torch.int64, "i32": torch.int32, "i16": torch.int16, "i8": torch.int8, "u8": torch.uint8,
    "bool": torch.bool,
}


def reference(dtype):
    return torch.arange(12).view(3, 4).to(dtype)


def views():
    base = torch.arange(24, dtype=torch.float32).view(4, 6)
    return {
        "base": base, "row": base[1], "column": base[:, 2], "stepped": base[::2, 1::3], "transposed": base.t(),
        "expanded": torch.arange(3.0).expand(4, 3), "tail": torch.arange(10, dtype=torch.int64)[6:],
    }


def checkpoint():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    return {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3, "loss": 0.25, "name": "run",
        "shape": torch.Size([2, 3]), "tags": ("a", 1, None), "blob": b"\x00\xff", "big": -(2**40), "flag": False,
        "dtype": torch.float32, "device": torch.device("cpu"), "nested": [[1, 2], {"k": [1.5]}],
    }


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this should never run",))


def fixtures(folder):
    os.makedirs(folder, exist_ok=True)
    torch.save({k: reference(d) for k, d in DTYPES.items()}, os.path.join(folder, "dtypes.pt"))
    torch.save(views(), os.path.join(folder, "views.pt"))
    torch.save(checkpoint(), os.path.join(folder, "checkpoint.pt"))
    torch.save([torch.nn.Parameter(torch.ones(2)), torch.zeros(0, 3)], os.path.join(folder, "parameters.pt"))
    torch.save({"x": Evil()}, os.path.join(folder, "evil.pt"))
    torch.save({"x": torch.ones(2)}, os.path.join(folder, "legacy.pt"), _use_new_zipfile_serialization=False)
    # The same archive as if written on a big-endian machine.
    buffer = io.BytesIO()
    torch.save({"x": torch.ones(2)}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(os.path.join(folder, "big_endian.pt"), "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, b"big" if info.filename.endswith("byteorder") else data)


def resnet(folder):
    sys.path.insert(0, os.path.dirname(__file__))
    from torch_models import ResNet18, randomize_running_stats

    torch.manual_seed(2)
    model = ResNet18().eval()
    randomize_running_stats(model)
    with torch.no_grad():
        x = torch.randn(1, 3, 64, 64)
        logits = model(x)
    torch.save(model.state_dict(), os.path.join(folder, "resnet18.pth"))
    np.save(os.path.join(folder, "input.npy"), x.numpy())
    np.save(os.path.join(folder, "logits.npy"), logits.numpy())


def check(folder):
    def load(name):
        return torch.load(os.path.join(folder, name), weights_only=True)

    loaded = load("swift_dtypes.pt")
    assert set(loaded) == set(DTYPES), sorted(loaded)
    for key, dtype in DTYPES.items():
        assert loaded[key].dtype == dtype, (key, loaded[key].dtype)
        assert torch.equal(loaded[key], reference(dtype)), key

    v = load("swift_views.pt")
    expected = views()
    for key, t in expected.items():
        assert torch.equal(v[key], t), key
        assert v[key].stride() == t.stride(), (key, v[key].stride(), t.stride())
    for key in ["row", "column", "stepped", "transposed"]:
        assert v[key].untyped_storage().data_ptr() == v["base"].untyped_storage().data_ptr(), key
    v["base"][1, 0] = 100
    assert v["row"][0] == 100

    c = load("swift_checkpoint.pt")
    assert c["epoch"] == 7 and c["lr"] == 0.5 and c["name"] == "swift" and c["flag"] is True and c["none"] is None
    assert c["tags"] == ("a", -3) and c["big"] == -(2**40) and c["blob"] == b"\x00\x7f\xff"
    assert isinstance(c["model"], dict) and torch.equal(c["model"]["w"], torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    m = c["state"][0]["momentum"]
    assert m.dtype == torch.float64 and m.tolist() == [0.5, -0.5], (m, m.dtype)
    assert c["list"] == [1, 2.5, "x"]
    print("ok")


if __name__ == "__main__":
    {"fixtures": fixtures, "resnet": resnet, "check": check}[sys.argv[1]](sys.argv[2])
