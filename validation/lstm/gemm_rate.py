"""libtorch's fp32 (and bf16) GEMM rate on this machine for the LSTM's shapes: a batch (or
half a batch) of hidden states times the recurrent weights, h·W_hhᵀ (B×64 · 64×256), one
intra-op thread. Prints GFLOP/s per shape."""
import time

import torch

torch.set_num_threads(1)
for dtype in (torch.float32, torch.bfloat16):
    for b in (128, 64):
        a = torch.randn(b, 64, dtype=dtype)
        w = torch.randn(64, 256, dtype=dtype)
        for _ in range(200):
            a @ w
        n = 20000
        t0 = time.perf_counter()
        for _ in range(n):
            a @ w
        dt = time.perf_counter() - t0
        flop = 2 * b * 64 * 256 * n
        print(f"libtorch {str(dtype):15s} {b:4d}x64 . 64x256: {flop / dt / 1e9:6.1f} GFLOP/s ({dt / n * 1e6:.1f} us each)")
# The same products as one big one: what the cores can do when call overhead is gone.
a = torch.randn(4096, 64)
w = torch.randn(64, 256)
t0 = time.perf_counter()
for _ in range(500):
    a @ w
dt = time.perf_counter() - t0
print(f"libtorch float32 4096x64 . 64x256: {2 * 4096 * 64 * 256 * 500 / dt / 1e9:6.1f} GFLOP/s")
