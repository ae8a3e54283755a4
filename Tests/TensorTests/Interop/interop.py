"""The Python side of the interop tests (TensorTests/InteropTests.swift).

  interop.py write DIR      writes .npy (every dtype, both byte orders, C and Fortran order,
                            format versions 1-3), .npz (stored and compressed) and safetensors
  interop.py check DIR      reads what the Swift side wrote and checks every value
  interop.py mmap PATH      opens PATH with mmap_mode="r+", checks it holds 2*arange(6),
                            writes 100 into element 0 and flushes
Exit status 0 means every check passed.
"""
import os
import sys

import numpy as np

DTYPES = ["f4", "f8", "f2", "i8", "i4", "i2", "i1", "u1", "b1"]


def reference(code):
    return np.arange(12).reshape(3, 4).astype(code)


def write(folder):
    for code in DTYPES:
        a = reference(code)
        orders = ["<", ">"] if a.dtype.itemsize > 1 else ["|"]
        for order in orders:
            typed = a.astype(order + code) if order != "|" else a
            for fortran in (False, True):
                arr = np.asfortranarray(typed) if fortran else typed
                for version in ((1, 0), (2, 0), (3, 0)):
                    name = f"{code}_{'be' if order == '>' else 'le'}_{'F' if fortran else 'C'}_v{version[0]}.npy"
                    with open(os.path.join(folder, name), "wb") as f:
                        np.lib.format.write_array(f, arr, version=version)
    arrays = {code: reference(code) for code in DTYPES}
    np.savez(os.path.join(folder, "stored.npz"), **arrays)
    np.savez_compressed(os.path.join(folder, "compressed.npz"), **arrays)
    try:
        from safetensors.numpy import save_file
        save_file({code: reference(code) for code in DTYPES}, os.path.join(folder, "numpy.safetensors"),
                  metadata={"written_by": "safetensors.numpy"})
    except ImportError:
        pass
    try:
        import torch
        from safetensors.torch import save_file as save_torch
        save_torch({"bf16": torch.arange(12, dtype=torch.bfloat16).reshape(3, 4) / 3}, os.path.join(folder, "torch.safetensors"))
    except ImportError:
        pass


def check(folder):
    failures = []
    for code in DTYPES:
        expected = reference(code)
        got = np.load(os.path.join(folder, f"swift_{code}.npy"))
        if got.dtype != expected.dtype or not np.array_equal(got, expected):
            failures.append(f"swift_{code}.npy: {got.dtype} {got.tolist()}")
        mm = np.load(os.path.join(folder, f"swift_{code}.npy"), mmap_mode="r")
        if not np.array_equal(mm, expected):
            failures.append(f"swift_{code}.npy (mmap)")
    for archive in ("swift_stored.npz", "swift_compressed.npz"):
        with np.load(os.path.join(folder, archive)) as z:
            for code in DTYPES:
                if not np.array_equal(z[code], reference(code)) or z[code].dtype != reference(code).dtype:
                    failures.append(f"{archive}[{code}]")
    try:
        from safetensors.numpy import load_file
        from safetensors import safe_open
        loaded = load_file(os.path.join(folder, "swift.safetensors"))
        for code in DTYPES:
            if not np.array_equal(loaded[code], reference(code)):
                failures.append(f"swift.safetensors[{code}]")
        with safe_open(os.path.join(folder, "swift.safetensors"), "np") as f:
            if f.metadata() != {"written_by": "swift"}:
                failures.append(f"metadata {f.metadata()}")
    except ImportError:
        pass
    try:
        import torch
        from safetensors.torch import load_file as load_torch
        t = load_torch(os.path.join(folder, "swift_torch.safetensors"))
        expected = torch.arange(12, dtype=torch.bfloat16).reshape(3, 4) / 3
        if t["bf16"].dtype != torch.bfloat16 or not torch.equal(t["bf16"], expected):
            failures.append("swift_torch.safetensors[bf16]")
        if t["f16"].dtype != torch.float16 or t["f16"].tolist() != [0.5, -1.5]:
            failures.append("swift_torch.safetensors[f16]")
    except ImportError:
        pass
    if failures:
        print("\n".join(failures))
        sys.exit(1)


def mmap(path):
    m = np.load(path, mmap_mode="r+")
    if m.dtype != np.float32 or m.tolist() != [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]:
        print(f"numpy saw {m.dtype} {m.tolist()}")
        sys.exit(1)
    m[0] = 100
    m.flush()


if __name__ == "__main__":
    {"write": write, "check": check, "mmap": mmap}[sys.argv[1]](sys.argv[2])
