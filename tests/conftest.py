"""Test-wide settings, applied before NumPy is imported by the test modules.

* One BLAS thread per process: ``pytest -n auto`` already runs one worker per core, and two
  OpenBLAS threads per worker on a 2-core machine make every matrix product slower, not faster
  (measured 4× on the MNIST test).
* Figures render headless; progress bars stay quiet.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
