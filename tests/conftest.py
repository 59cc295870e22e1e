"""Pin BLAS to one thread before numpy loads: the suite's matrices are small, and on a shared 2-core machine a
threaded BLAS makes them slower, not faster (the recipes do the same when run as scripts)."""

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
