"""Converts the UCI handwritten digits, as distributed with scikit-learn, to Data/digits.npz
(images: uint8 [1797, 8, 8] with values 0-16; labels: int64 [1797]).

Run once with a Python that has scikit-learn: `.venv/bin/python Scripts/convert_digits.py`.
The data set is CC BY 4.0 (see Data/DIGITS-LICENSE.md).
"""
import os

import numpy as np
from sklearn.datasets import load_digits

digits = load_digits()
out = os.path.join(os.path.dirname(__file__), "..", "Data", "digits.npz")
np.savez_compressed(out, images=digits.images.astype(np.uint8), labels=digits.target.astype(np.int64))
print("wrote", os.path.normpath(out), digits.images.shape)
