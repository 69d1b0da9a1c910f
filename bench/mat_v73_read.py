"""Seconds to read one rating matrix saved as MATLAB v5 (scipy) and as v7.3 (HDF5, h5py), the same cells.

    python bench/mat_v73_read.py [--height 96] [--width 128]

The v7.3 file is written as MATLAB lays it out (tests/mat73_writer.py); each pixel's cell holds 0 to 9
ratings. Prints the read time of each (meaningmaps.data.rating_matrix.load_rating_matrix).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.io

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from meaningmaps.data.rating_matrix import load_rating_matrix  # noqa: E402
from tests.mat73_writer import write_v73  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--height", type=int, default=96)
    ap.add_argument("--width", type=int, default=128)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    cells = np.empty((args.height, args.width, 2), dtype=object)
    for ix in np.ndindex(cells.shape):
        cells[ix] = rng.integers(1, 7, int(rng.integers(0, 10))).astype(float).reshape(1, -1)
    with tempfile.TemporaryDirectory() as tmp:
        v5, v73 = Path(tmp) / "v5.mat", Path(tmp) / "v73.mat"
        scipy.io.savemat(v5, {"rating_matrix": cells})
        write_v73(v73, {"rating_matrix": cells})
        for name, path in (("v5", v5), ("v7.3", v73)):
            start = time.perf_counter()
            load_rating_matrix(path)
            print(f"{name}: {time.perf_counter() - start:.2f} s for {cells.size} cells")


if __name__ == "__main__":
    main()
