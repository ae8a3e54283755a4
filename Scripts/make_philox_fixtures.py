"""Writes the device random stream's expected values for PhiloxTests: an implementation of
Philox4x32-10 and of the stream's distributions written from the published algorithm
(Salmon et al., SC 2011) and the description in Sources/Tensor/Random/Philox.swift, independent of
the Swift code. Needs only numpy: `python3 Scripts/make_philox_fixtures.py`. Files go to
Tests/TensorTests/Fixtures as philox_*.npy (this script touches no other file there).
"""
import os
from fractions import Fraction

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TensorTests", "Fixtures")
MASK32 = 0xFFFFFFFF


def philox(counter, key):
    c = list(counter)
    k0, k1 = key
    for r in range(10):
        if r > 0:
            k0 = (k0 + 0x9E3779B9) & MASK32
            k1 = (k1 + 0xBB67AE85) & MASK32
        p0 = 0xD2511F53 * c[0]
        p1 = 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k0) & MASK32, p1 & MASK32, ((p0 >> 32) ^ c[3] ^ k1) & MASK32, p0 & MASK32]
    return c


# Random123's known answers for philox4x32-10 (counter, key, output): checked here, and the
# same three are checked by the Swift tests.
for counter, key, want in [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([MASK32] * 4, [MASK32] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0], [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]:
    assert philox(counter, key) == want, (counter, key)


def words(block, seed, offset):
    return philox([block & MASK32, block >> 32, offset & MASK32, offset >> 32], [seed & MASK32, seed >> 32])


def fma32(x, y, z):
    """x * y + z rounded once to float32 (nearest even), as fmaf."""
    exact = Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
    c = np.float32(float(exact))
    candidates = [c, np.nextafter(c, np.float32(np.inf)), np.nextafter(c, np.float32(-np.inf))]
    best = min(candidates, key=lambda v: (abs(Fraction(float(v)) - exact), int(np.array(v).view(np.uint32)) & 1))
    return np.float32(best)


def fma64(x, y, z):
    """x * y + z rounded once to double, as fma."""
    return float(Fraction(x) * Fraction(y) + Fraction(z))


def round_to(values, dtype):
    """float32 values rounded to float16 or bfloat16 (nearest even), back as float32."""
    values = np.asarray(values, dtype=np.float32)
    if dtype == "float16":
        return values.astype(np.float16).astype(np.float32)
    if dtype == "bfloat16":
        bits = values.view(np.uint32).astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
        return bits.astype(np.uint32).view(np.float32)
    return values


def fill(count, dtype, kind, a, b, seed, offset):
    out = []
    f32 = np.float32
    if dtype == "float64":
        for block in range((count + 1) // 2):
            w = words(block, seed, offset)
            u = [float(((w[2 * j + 1] << 32) | w[2 * j]) & ((1 << 53) - 1)) * 2.0**-53 for j in range(2)]
            if kind == "uniform":
                vals = [fma64(x, b - a, a) for x in u]
                vals = [a if v >= b else v for v in vals]
            elif kind == "normal":
                r = np.sqrt(-2.0 * np.log(1.0 - u[0]))
                theta = 2.0 * np.pi * u[1]
                vals = [fma64(r * np.cos(theta), b, a), fma64(r * np.sin(theta), b, a)]
            else:
                vals = [1.0 if x < a else 0.0 for x in u]
            out += vals
        return np.array(out[:count], dtype=np.float64)
    for block in range((count + 3) // 4):
        w = words(block, seed, offset)
        u = [f32(x & 0xFFFFFF) * f32(2.0**-24) for x in w]
        if kind == "uniform":
            low, high, span = f32(a), f32(b), f32(b - a)
            # fma in float: exact in double, then rounded once to float.
            vals = [round_to([fma32(x, span, low)], dtype)[0] for x in u]
            low_rounded = round_to([low], dtype)[0]
            vals = [low_rounded if v >= high else v for v in vals]
        elif kind == "normal":
            z = []
            for pair in range(2):
                r = np.sqrt(f32(-2) * np.log(f32(1) - u[2 * pair]))
                theta = f32(2 * np.pi) * u[2 * pair + 1]
                z += [r * np.cos(theta), r * np.sin(theta)]
            vals = [fma32(x, f32(b), f32(a)) for x in z]
        else:
            vals = [1.0 if float(x) < a else 0.0 for x in u]
        out += vals
    return np.array(out[:count], dtype=np.float32)


CASES = {
    "uniform_float32": (10, "float32", "uniform", -1.0, 3.0, 42, 0),
    "uniform_float32_bigseed": (6, "float32", "uniform", 0.0, 1.0, 0x123456789ABCDEF0, 7),
    "uniform_float64": (7, "float64", "uniform", 0.0, 1.0, 42, 5),
    "uniform_float16": (9, "float16", "uniform", 0.0, 1.0, 7, 1),
    "uniform_bfloat16": (9, "bfloat16", "uniform", -2.0, 2.0, 7, 2),
    "normal_float32": (10, "float32", "normal", 0.5, 2.0, 42, 2),
    "normal_float64": (5, "float64", "normal", 0.0, 1.0, 3, 0),
    "bernoulli_float32": (12, "float32", "bernoulli", 0.3, 0.0, 42, 1),
    "bernoulli_float64": (6, "float64", "bernoulli", 0.6, 0.0, 9, 4),
}

if __name__ == "__main__":
    for name, args in CASES.items():
        np.save(os.path.join(OUT, f"philox_{name}.npy"), fill(*args))
    print(f"wrote {len(CASES)} philox fixtures to {os.path.normpath(OUT)}")
