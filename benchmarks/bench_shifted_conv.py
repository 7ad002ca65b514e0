"""A road not taken, measured: D's stride-2 4x4 convolution (64 -> 128 channels,
14x14 -> 7x7, batch 128) as four stride-1 GEMMs over shifted views of a
space-to-depth copy of the input, against minigan's im2col + one GEMM.

    python benchmarks/bench_shifted_conv.py            # one thread, CPU time, ms per call

Space-to-depth turns a stride-2 4x4 kernel into a stride-1 2x2 one over 4x the
channels; each of the 2x2 offsets is then one GEMM whose right operand is a plain
strided view of the (channels, H*W*N) input (the output computed over the padded
width, its extra columns dropped), so no im2col matrix is ever written. The input
gradient is the adjoint: four GEMMs added into shifted views, then depth-to-space.
Both agree with minigan's ops to float32 rounding; the script prints the times of
each way and of their parts (im2col's copy, the GEMM, col2im's adds).
"""
import os
import sys
import time


HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.append(os.path.dirname(HERE))
from common import set_threads  # noqa: E402
import numpy as np  # noqa: E402  (after common: see common._quiet_openblas)

N, C, H, W, O, K, S, P = 128, 64, 14, 14, 128, 4, 2, 1
HO = WO = (H + 2 * P - K) // S + 1
KS = K // S                      # the kernel after space-to-depth: 2x2, stride 1
HS = WS = -(-(H + 2 * P) // S)   # the space-to-depth grid: 8x8
R = C * S * S                    # its channels: 256
OFFSETS = [(i * WS + j) * N for i in range(KS) for j in range(KS)]
L = ((HO - 1) * WS + WO) * N     # output columns over the padded width


def phase_ranges(a, extent):
    """For input phase a: the grid rows h' whose padded row S*h' + a lies inside."""
    first = (P - a + S - 1) // S
    last = min(HS, (extent - 1 + P - a) // S + 1)
    return first, last


def space_to_depth(x):
    """(C, H, W, N) batch-last -> (R, HS*WS*N), zero padding included."""
    xs = np.zeros((C, S, S, HS, WS, N), x.dtype)
    for a in range(S):
        h0, h1 = phase_ranges(a, H)
        for b in range(S):
            w0, w1 = phase_ranges(b, W)
            xs[:, a, b, h0:h1, w0:w1] = x[:, S * h0 + a - P:S * (h1 - 1) + a - P + 1:S,
                                            S * w0 + b - P:S * (w1 - 1) + b - P + 1:S]
    return xs.reshape(R, HS * WS * N)


def depth_to_space(xs):
    out = np.empty((C, H, W, N), xs.dtype)
    x6 = xs.reshape(C, S, S, HS, WS, N)
    for a in range(S):
        h0, h1 = phase_ranges(a, H)
        for b in range(S):
            w0, w1 = phase_ranges(b, W)
            out[:, S * h0 + a - P:S * (h1 - 1) + a - P + 1:S,
                S * w0 + b - P:S * (w1 - 1) + b - P + 1:S] = x6[:, a, b, h0:h1, w0:w1]
    return out


def split_kernel(w):
    """(O, C, K, K) -> the 2x2 stride-1 kernels, each (O, R), rows ordered (c, a, b)."""
    w6 = w.reshape(O, C, KS, S, KS, S)
    return [np.ascontiguousarray(w6[:, :, i, :, j, :].reshape(O, R))
            for i in range(KS) for j in range(KS)]


def shifted_forward(x, kernels):
    xs = space_to_depth(x)
    wide = np.empty((O, HO * WS * N), x.dtype)
    tmp = np.empty((O, L), x.dtype)
    np.matmul(kernels[0], xs[:, OFFSETS[0]:OFFSETS[0] + L], out=wide[:, :L])
    for k, off in zip(kernels[1:], OFFSETS[1:]):
        np.matmul(k, xs[:, off:off + L], out=tmp)
        wide[:, :L] += tmp
    return np.ascontiguousarray(wide.reshape(O, HO, WS, N)[:, :, :WO])


def shifted_input_grad(g, kernels_t):
    wide = np.zeros((O, HO, WS, N), g.dtype)
    wide[:, :, :WO] = g
    wide = wide.reshape(O, -1)[:, :L]
    gxs = np.zeros((R, HS * WS * N), g.dtype)
    tmp = np.empty((R, L), g.dtype)
    for k, off in zip(kernels_t, OFFSETS):
        np.matmul(k, wide, out=tmp)
        gxs[:, off:off + L] += tmp
    return depth_to_space(gxs)


def cpu_ms(fn, repeats=15):
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1000 * float(np.median(times))


def main():
    set_threads(1)
    from minigan.functional import conv
    rng = np.random.default_rng(0)
    x = rng.standard_normal((C, H, W, N)).astype(np.float32)
    w = rng.standard_normal((O, C, K, K)).astype(np.float32)
    g = rng.standard_normal((O, HO, WO, N)).astype(np.float32)
    geometry = ((K, K), (HO, WO), (S, S), (P, P), (1, 1))
    kernels = split_kernel(w)
    kernels_t = [np.ascontiguousarray(k.T) for k in kernels]

    def im2col_forward():
        return (w.reshape(O, -1) @ conv._im2col(x, *geometry)).reshape(O, HO, WO, N)

    def col2im_input_grad():
        cols = w.reshape(O, -1).T @ g.reshape(O, -1)
        return conv._col2im(cols.reshape(C, K, K, HO, WO, N), (H, W), (K, K), (S, S),
                            (P, P), (1, 1))

    for name, ours, theirs in (("forward", im2col_forward, lambda: shifted_forward(x, kernels)),
                               ("input gradient", col2im_input_grad,
                                lambda: shifted_input_grad(g, kernels_t))):
        a, b = ours(), theirs()
        agree = float(np.abs(a - b).max() / np.abs(a).max())
        print(f"{name:15s} im2col/col2im {cpu_ms(ours):6.2f} ms   shifted GEMMs "
              f"{cpu_ms(theirs):6.2f} ms   max relative difference {agree:.1e}")
    cols = conv._im2col(x, *geometry)
    print(f"parts: im2col's copy {cpu_ms(lambda: conv._im2col(x, *geometry)):.2f} ms, "
          f"the forward GEMM {cpu_ms(lambda: w.reshape(O, -1) @ cols):.2f} ms, one shifted "
          f"GEMM {cpu_ms(lambda: kernels[1] @ space_to_depth(x)[:, OFFSETS[1]:OFFSETS[1] + L]):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
