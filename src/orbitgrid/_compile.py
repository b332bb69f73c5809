"""Shared settings of the compiled (numba) kernels.

Fast-math without "nnan"/"ninf": a NaN position (a decayed satellite from the propagator) must
stay NaN and ``isfinite`` checks must survive optimisation. The remaining flags let LLVM
reassociate, contract and use approximate functions, which costs nothing measurable in
accuracy at this scale and is what makes the loops vectorise.
"""

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}  # numba wants a set; do not mutate
