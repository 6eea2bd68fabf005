//! The LSTM layer's training pass on CPU written out: per time step one matrix product for
//! the recurrence and one pass over the gates, forward and backward; the recurrent weights'
//! gradient is one product over all steps. Buffers are kept between batches.
//!
//! Why by hand and not libtorch's `lstm` with autograd: on this model's small shapes (64
//! hidden units, 64–128 windows a batch) autograd's per-step operators and libtorch's
//! matrix products (MKL, which takes a generic path on AMD processors) cost about twice
//! what the arithmetic needs (validation/benchmarks.md, "The LSTM training target"). The
//! products here are the `gemm` crate's (AVX-512 kernels chosen at run time, one thread);
//! the layer stays libtorch's — its variables, gate order (i, f, g, o) and inference — so
//! saved models, forecasts and the CUDA path are unchanged. One input feature.
//!
//! The gate arithmetic is compiled for AVX-512, AVX2 and plain x86-64 and chosen at run
//! time; no step is contracted into a fused multiply-add, so all three give the same bits.
//! The matrix products' summation order depends on the kernel the processor gets, so
//! weights are identical run to run and whatever the thread count on one machine, not
//! across processors of different instruction sets (as with libtorch).

use std::sync::Mutex;

use multiversion::multiversion;
use tch::{Kind, Tensor};

/// The layer's variables (libtorch's names: weight_ih_l0 [4H, 1], weight_hh_l0 [4H, H],
/// bias_ih_l0 and bias_hh_l0 [4H]).
pub(super) struct LstmVars {
    pub w_ih: Tensor,
    pub w_hh: Tensor,
    pub b_ih: Tensor,
    pub b_hh: Tensor,
}

/// The layer's variables with the buffers of its written-out training pass.
pub(super) struct CpuLstm {
    vars: LstmVars,
    work: Mutex<Workspace>,
}

impl CpuLstm {
    pub fn new(vars: LstmVars) -> CpuLstm {
        CpuLstm {
            vars,
            work: Mutex::new(Workspace::default()),
        }
    }

    /// The layer over windows `x` ([rows, past], CPU): the last hidden state [rows, H].
    /// What the backward pass needs is kept until the next call. No autograd.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut work = self.work.lock().unwrap_or_else(|e| e.into_inner());
        work.forward(&self.vars, x)
    }

    /// Adds to the variables' gradients those of the last [`forward`](Self::forward)'s
    /// windows, given the loss's gradient `dh` [rows, H] with respect to the last hidden
    /// state.
    pub fn backward(&self, dh: &Tensor) {
        let grads = self.gradients(dh);
        accumulate(&self.vars, &grads);
    }

    /// The gradients (w_ih, w_hh, b_ih, b_hh) of the last forward pass's windows.
    fn gradients(&self, dh: &Tensor) -> [Tensor; 4] {
        let mut work = self.work.lock().unwrap_or_else(|e| e.into_inner());
        work.backward(dh)
    }
}

/// Shapes and buffers of one forward pass, reused by the next.
#[derive(Default)]
struct Workspace {
    rows: usize,
    past: usize,
    hidden: usize,
    /// The windows step by step, [past, rows].
    x: Vec<f32>,
    w_ih: Vec<f32>,
    /// b_ih + b_hh, [4H].
    bias: Vec<f32>,
    /// W_hh [4H, H] and its transpose [H, 4H], as the forward pass read them.
    w_hh: Vec<f32>,
    w_hh_t: Vec<f32>,
    /// Per step h_{t−1}·W_hhᵀ, then the gates' activations (i, f, g, o), [past, rows, 4H];
    /// the backward pass overwrites them with the gradients of the gates' inputs.
    gates: Vec<f32>,
    /// h_0 … h_past and c_0 … c_past, [past + 1, rows, H] (h_0 = c_0 = 0).
    h: Vec<f32>,
    c: Vec<f32>,
    /// tanh(c_1) … tanh(c_past), [past, rows, H].
    tanh_c: Vec<f32>,
    /// The gradients with respect to h_t and c_t, [rows, H].
    dh: Vec<f32>,
    dc: Vec<f32>,
    /// A tensor's values on their way into the buffers above.
    scratch: Vec<f32>,
}

/// `t`'s elements as f32, into `out` (its old contents dropped, its memory kept).
fn read_into(t: &Tensor, out: &mut Vec<f32>) {
    let t = t.detach().to_kind(Kind::Float).contiguous();
    out.clear();
    out.resize(t.numel(), 0.0);
    let n = out.len();
    t.copy_data(out, n);
}

impl Workspace {
    fn forward(&mut self, vars: &LstmVars, x: &Tensor) -> Tensor {
        let size = x.size();
        let (rows, past) = (size[0] as usize, size[1] as usize);
        let hidden = vars.w_hh.size()[1] as usize;
        let g4 = 4 * hidden;
        (self.rows, self.past, self.hidden) = (rows, past, hidden);
        read_into(&vars.w_ih, &mut self.w_ih);
        read_into(&vars.b_ih, &mut self.bias);
        read_into(&vars.b_hh, &mut self.scratch);
        for (b, extra) in self.bias.iter_mut().zip(&self.scratch) {
            *b += extra;
        }
        read_into(&vars.w_hh, &mut self.w_hh);
        self.w_hh_t.resize(g4 * hidden, 0.0);
        for (r, row) in self.w_hh.chunks_exact(hidden).enumerate() {
            for (k, v) in row.iter().enumerate() {
                self.w_hh_t[k * g4 + r] = *v;
            }
        }
        // The windows step-major: one step's inputs are contiguous.
        read_into(x, &mut self.scratch);
        self.x.resize(past * rows, 0.0);
        for (b, window) in self.scratch.chunks_exact(past).enumerate() {
            for (s, v) in window.iter().enumerate() {
                self.x[s * rows + b] = *v;
            }
        }
        let step = rows * hidden;
        self.gates.resize(past * rows * g4, 0.0);
        self.h.resize((past + 1) * step, 0.0);
        self.c.resize((past + 1) * step, 0.0);
        self.tanh_c.resize(past * step, 0.0);
        self.h[..step].fill(0.0);
        self.c[..step].fill(0.0);
        for s in 0..past {
            let z = &mut self.gates[s * rows * g4..(s + 1) * rows * g4];
            let (h_done, h_next) = self.h.split_at_mut((s + 1) * step);
            if s == 0 {
                z.fill(0.0);
            } else {
                matmul(
                    z,
                    Layout::row_major(rows, g4),
                    &h_done[s * step..],
                    Layout::row_major(rows, hidden),
                    &self.w_hh_t,
                    Layout::row_major(hidden, g4),
                );
            }
            let (c_done, c_next) = self.c.split_at_mut((s + 1) * step);
            forward_step(
                z,
                &self.x[s * rows..(s + 1) * rows],
                &self.w_ih,
                &self.bias,
                &c_done[s * step..],
                &mut c_next[..step],
                &mut self.tanh_c[s * step..(s + 1) * step],
                &mut h_next[..step],
            );
        }
        Tensor::from_slice(&self.h[past * step..]).reshape([rows as i64, hidden as i64])
    }

    fn backward(&mut self, dh: &Tensor) -> [Tensor; 4] {
        let (rows, past, hidden) = (self.rows, self.past, self.hidden);
        let g4 = 4 * hidden;
        let step = rows * hidden;
        read_into(dh, &mut self.dh);
        assert_eq!(
            self.dh.len(),
            step,
            "the gradient of the last forward pass's output"
        );
        self.dc.clear();
        self.dc.resize(step, 0.0);
        let mut d_b = vec![0f32; g4];
        let mut d_w_ih = vec![0f32; g4];
        for s in (0..past).rev() {
            let z = &mut self.gates[s * rows * g4..(s + 1) * rows * g4];
            backward_step(
                z,
                &self.x[s * rows..(s + 1) * rows],
                &self.c[s * step..(s + 1) * step],
                &self.tanh_c[s * step..(s + 1) * step],
                &self.dh,
                &mut self.dc,
                &mut d_b,
                &mut d_w_ih,
            );
            if s > 0 {
                matmul(
                    &mut self.dh,
                    Layout::row_major(rows, hidden),
                    z,
                    Layout::row_major(rows, g4),
                    &self.w_hh,
                    Layout::row_major(g4, hidden),
                );
            }
        }
        // dW_hh = Σ_t dz_tᵀ · h_{t−1} over the steps with a non-zero h_{t−1}: one product.
        let mut d_w_hh = vec![0f32; g4 * hidden];
        let depth = (past - 1) * rows;
        if depth > 0 {
            matmul(
                &mut d_w_hh,
                Layout::row_major(g4, hidden),
                &self.gates[rows * g4..],
                Layout::row_major(depth, g4).transposed(),
                &self.h[step..past * step],
                Layout::row_major(depth, hidden),
            );
        }
        let (g, h) = (g4 as i64, hidden as i64);
        let d_b = Tensor::from_slice(&d_b);
        [
            Tensor::from_slice(&d_w_ih).reshape([g, 1]),
            Tensor::from_slice(&d_w_hh).reshape([g, h]),
            d_b.copy(),
            d_b,
        ]
    }
}

/// A matrix in a slice: element (r, c) at `r · row_stride + c · col_stride`.
#[derive(Debug, Clone, Copy)]
struct Layout {
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl Layout {
    fn row_major(rows: usize, cols: usize) -> Layout {
        Layout {
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }
    fn transposed(self) -> Layout {
        Layout {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }
    /// One past the largest index the matrix touches.
    fn span(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
        }
    }
}

/// `dst` = `a` · `b` (overwritten), on this thread.
fn matmul(dst: &mut [f32], d: Layout, a: &[f32], la: Layout, b: &[f32], lb: Layout) {
    assert!(
        la.rows == d.rows && lb.cols == d.cols && la.cols == lb.rows && la.cols > 0,
        "matrix shapes {la:?} · {lb:?} → {d:?}"
    );
    assert!(d.span() <= dst.len() && la.span() <= a.len() && lb.span() <= b.len());
    // SAFETY: every element gemm reads or writes lies inside its slice (the spans checked
    // above), and `dst`, a unique borrow, overlaps neither `a` nor `b`.
    unsafe {
        gemm::gemm(
            d.rows,
            d.cols,
            la.cols,
            dst.as_mut_ptr(),
            d.col_stride as isize,
            d.row_stride as isize,
            false,
            a.as_ptr(),
            la.col_stride as isize,
            la.row_stride as isize,
            b.as_ptr(),
            lb.col_stride as isize,
            lb.row_stride as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Accumulates `grads` into the variables' gradients through autograd: the gradient of
/// Σ w ⊙ g with respect to w is g, exactly (and a variable's gradient is created when it
/// has none yet).
fn accumulate(vars: &LstmVars, grads: &[Tensor; 4]) {
    let vs = [&vars.w_ih, &vars.w_hh, &vars.b_ih, &vars.b_hh];
    let surrogate = vs
        .iter()
        .zip(grads)
        .map(|(v, g)| (*v * g).sum(Kind::Float))
        .reduce(|a, b| a + b)
        .expect("four variables");
    surrogate.backward();
}

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// 1.5 · 2²³: adding it rounds a float of magnitude below 2²² to an integer.
const ROUND: f32 = 12_582_912.0;
// Cody–Waite split of ln 2 and the degree-6 polynomial for e^r on |r| ≤ ln2 / 2 (Cephes
// expf); relative error below 2⁻²² (tests). By hand rather than `f32::exp` so that the
// gate loops vectorise.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = ((((1.987_569_2e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5; // Cephes: 5.0000001201e-1, which rounds to 0.5 in f32
    let e = p * (r * r) + r + 1.0;
    let scale = ((t.to_bits() as i32 - ROUND.to_bits() as i32 + 127) << 23) as u32;
    e * f32::from_bits(scale)
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[inline(always)]
fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

/// Cells a gate loop handles at once: one AVX-512 register of f32.
const LANES: usize = 16;

#[inline(always)]
fn lanes<const L: usize>(s: &[f32], j: usize) -> &[f32; L] {
    s[j..j + L].try_into().expect("L elements")
}

#[inline(always)]
fn lanes_mut<const L: usize>(s: &mut [f32], j: usize) -> &mut [f32; L] {
    (&mut s[j..j + L]).try_into().expect("L elements")
}

/// Cells j … j + L of each of the four gates.
#[inline(always)]
fn gate_lanes<'a, const L: usize>(
    gates: &'a mut [&mut [f32]; 4],
    j: usize,
) -> [&'a mut [f32; L]; 4] {
    gates.each_mut().map(|g| lanes_mut::<L>(g, j))
}

/// Splits a row of the four gates' values (i, f, g, o) into its gates.
#[inline(always)]
fn four(z: &mut [f32], n: usize) -> [&mut [f32]; 4] {
    let (i, rest) = z.split_at_mut(n);
    let (f, rest) = rest.split_at_mut(n);
    let (g, o) = rest.split_at_mut(n);
    [i, f, g, o]
}

/// The four gates' parts (i, f, g, o) of a [4H] vector.
#[inline(always)]
fn quarters(v: &[f32], n: usize) -> [&[f32]; 4] {
    [&v[..n], &v[n..2 * n], &v[2 * n..3 * n], &v[3 * n..4 * n]]
}

/// One step forward for every window: `z` ([rows, 4H]) holds h_{t−1}·W_hhᵀ on entry and
/// the gates' activations on exit; `c`, `tc`, `h` ([rows, H]) get c_t, tanh(c_t), h_t.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
#[allow(clippy::too_many_arguments)]
fn forward_step(
    z: &mut [f32],
    x: &[f32],
    w_ih: &[f32],
    bias: &[f32],
    c_prev: &[f32],
    c: &mut [f32],
    tc: &mut [f32],
    h: &mut [f32],
) {
    let n = w_ih.len() / 4;
    let (w, bias) = (quarters(w_ih, n), quarters(bias, n));
    for (b, &xb) in x.iter().enumerate() {
        let mut z = four(&mut z[b * 4 * n..(b + 1) * 4 * n], n);
        let cells = b * n..(b + 1) * n;
        let row = ForwardRow {
            x: xb,
            w,
            bias,
            c_prev: &c_prev[cells.clone()],
        };
        let (c, tc, h) = (&mut c[cells.clone()], &mut tc[cells.clone()], &mut h[cells]);
        let mut j = 0;
        while j + LANES <= n {
            row.cells::<LANES>(&mut z, c, tc, h, j);
            j += LANES;
        }
        for j in j..n {
            row.cells::<1>(&mut z, c, tc, h, j);
        }
    }
}

/// What one window's cells read at one step, forward.
struct ForwardRow<'a> {
    x: f32,
    w: [&'a [f32]; 4],
    bias: [&'a [f32]; 4],
    c_prev: &'a [f32],
}

impl ForwardRow<'_> {
    /// Cells j … j + L.
    #[inline(always)]
    fn cells<const L: usize>(
        &self,
        z: &mut [&mut [f32]; 4],
        c: &mut [f32],
        tc: &mut [f32],
        h: &mut [f32],
        j: usize,
    ) {
        let [zi, zf, zg, zo] = gate_lanes::<L>(z, j);
        let [wi, wf, wg, wo] = self.w.map(|w| lanes::<L>(w, j));
        let [bi, bf, bg, bo] = self.bias.map(|b| lanes::<L>(b, j));
        let c_prev = lanes::<L>(self.c_prev, j);
        let (c, tc, h) = (
            lanes_mut::<L>(c, j),
            lanes_mut::<L>(tc, j),
            lanes_mut::<L>(h, j),
        );
        let x = self.x;
        for l in 0..L {
            let i = sigmoid(zi[l] + x * wi[l] + bi[l]);
            let f = sigmoid(zf[l] + x * wf[l] + bf[l]);
            let g = tanh(zg[l] + x * wg[l] + bg[l]);
            let o = sigmoid(zo[l] + x * wo[l] + bo[l]);
            let cell = f * c_prev[l] + i * g;
            let t = tanh(cell);
            (zi[l], zf[l], zg[l], zo[l]) = (i, f, g, o);
            c[l] = cell;
            tc[l] = t;
            h[l] = o * t;
        }
    }
}

/// One step backward for every window: `a` ([rows, 4H]) holds the activations on entry and
/// the gradients of the gates' inputs on exit; `dc` is the gradient with respect to c_t on
/// entry and c_{t−1} on exit, `dh` the one with respect to h_t; the gradients of the biases
/// and input weights are added into `d_b` and `d_w_ih` ([4H]), window by window.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
#[allow(clippy::too_many_arguments)]
fn backward_step(
    a: &mut [f32],
    x: &[f32],
    c_prev: &[f32],
    tc: &[f32],
    dh: &[f32],
    dc: &mut [f32],
    d_b: &mut [f32],
    d_w_ih: &mut [f32],
) {
    let n = d_b.len() / 4;
    let mut d_b = four(d_b, n);
    let mut d_w = four(d_w_ih, n);
    for (b, &xb) in x.iter().enumerate() {
        let mut a = four(&mut a[b * 4 * n..(b + 1) * 4 * n], n);
        let cells = b * n..(b + 1) * n;
        let row = BackwardRow {
            x: xb,
            c_prev: &c_prev[cells.clone()],
            tc: &tc[cells.clone()],
            dh: &dh[cells.clone()],
        };
        let dc = &mut dc[cells];
        let mut j = 0;
        while j + LANES <= n {
            row.cells::<LANES>(&mut a, dc, &mut d_b, &mut d_w, j);
            j += LANES;
        }
        for j in j..n {
            row.cells::<1>(&mut a, dc, &mut d_b, &mut d_w, j);
        }
    }
}

/// What one window's cells read at one step, backward.
struct BackwardRow<'a> {
    x: f32,
    c_prev: &'a [f32],
    tc: &'a [f32],
    dh: &'a [f32],
}

impl BackwardRow<'_> {
    /// Cells j … j + L.
    #[inline(always)]
    fn cells<const L: usize>(
        &self,
        a: &mut [&mut [f32]; 4],
        dc: &mut [f32],
        d_b: &mut [&mut [f32]; 4],
        d_w: &mut [&mut [f32]; 4],
        j: usize,
    ) {
        let [ai, af, ag, ao] = gate_lanes::<L>(a, j);
        let [bi, bf, bg, bo] = gate_lanes::<L>(d_b, j);
        let [wi, wf, wg, wo] = gate_lanes::<L>(d_w, j);
        let (c_prev, tc, dh) = (
            lanes::<L>(self.c_prev, j),
            lanes::<L>(self.tc, j),
            lanes::<L>(self.dh, j),
        );
        let dc = lanes_mut::<L>(dc, j);
        let x = self.x;
        for l in 0..L {
            let (i, f, g, o) = (ai[l], af[l], ag[l], ao[l]);
            let t = tc[l];
            let d_cell = dc[l] + dh[l] * o * (1.0 - t * t);
            let di = d_cell * g * (i * (1.0 - i));
            let df = d_cell * c_prev[l] * (f * (1.0 - f));
            let dg = d_cell * i * (1.0 - g * g);
            let d_o = dh[l] * t * (o * (1.0 - o));
            (ai[l], af[l], ag[l], ao[l]) = (di, df, dg, d_o);
            dc[l] = d_cell * f;
            (bi[l], bf[l], bg[l], bo[l]) = (bi[l] + di, bf[l] + df, bg[l] + dg, bo[l] + d_o);
            (wi[l], wf[l], wg[l], wo[l]) = (
                wi[l] + di * x,
                wf[l] + df * x,
                wg[l] + dg * x,
                wo[l] + d_o * x,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{self, RNN};
    use tch::Device;

    #[test]
    fn exp_sigmoid_and_tanh_match_the_standard_library() {
        let mut worst = (0f32, 0f32, 0f32);
        for k in -40_000..=40_000 {
            let x = k as f32 / 1000.0;
            worst.0 = worst.0.max((exp(x) - x.exp()).abs() / x.exp());
            worst.1 = worst.1.max((sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs());
            worst.2 = worst.2.max((tanh(x) - x.tanh()).abs());
        }
        assert!(worst.0 < 3e-7, "exp relative error {}", worst.0);
        assert!(worst.1 < 2e-7 && worst.2 < 5e-7, "{worst:?}");
        assert_eq!(tanh(-200.0), -1.0);
        assert_eq!(tanh(200.0), 1.0);
        assert!(sigmoid(-200.0) < 1e-37 && sigmoid(200.0) == 1.0);
    }

    /// A libtorch LSTM with random weights, its written-out twin, and random windows.
    fn layer(rows: i64, past: i64, hidden: i64) -> (nn::VarStore, nn::LSTM, CpuLstm, Tensor) {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let lstm = nn::lstm(vs.root() / "lstm", 1, hidden, Default::default());
        let get = |n: &str| vs.root().sub("lstm").get(n).expect(n);
        let vars = LstmVars {
            w_ih: get("weight_ih_l0"),
            w_hh: get("weight_hh_l0"),
            b_ih: get("bias_ih_l0"),
            b_hh: get("bias_hh_l0"),
        };
        // Biases away from zero, so that their gradients are tested.
        tch::no_grad(|| {
            let _ = vars.b_ih.shallow_clone().uniform_(-0.5, 0.5);
            let _ = vars.b_hh.shallow_clone().uniform_(-0.5, 0.5);
        });
        let x = Tensor::randn([rows, past], (Kind::Float, Device::Cpu)) * 1.5;
        (vs, lstm, CpuLstm::new(vars), x)
    }

    fn max_gap(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    /// Hidden sizes of whole AVX-512 registers and with a remainder (16 + 4).
    #[test]
    fn forward_and_gradients_match_libtorch_autograd() {
        for (rows, past, hidden) in [(37, 23, 20), (8, 60, 16), (3, 2, 5)] {
            let (vs, lstm, ours, x) = layer(rows, past, hidden);
            // A loss whose gradient with respect to h_T is not uniform.
            let weight = Tensor::randn([rows, hidden], (Kind::Float, Device::Cpu));
            let (out, _) = lstm.seq(&x.unsqueeze(-1));
            let h_ref = out.select(1, -1);
            (&h_ref * &weight).sum(Kind::Float).backward();
            let grad = |n: &str| vs.root().sub("lstm").get(n).unwrap().grad().copy();
            let reference = [
                grad("weight_ih_l0"),
                grad("weight_hh_l0"),
                grad("bias_ih_l0"),
                grad("bias_hh_l0"),
            ];

            let h = ours.forward(&x);
            let gap = max_gap(&h, &h_ref.detach());
            assert!(gap < 1e-5, "{rows}×{past}×{hidden}: h {gap}");
            let grads = ours.gradients(&weight);
            for (name, (a, b)) in ["w_ih", "w_hh", "b_ih", "b_hh"]
                .iter()
                .zip(grads.iter().zip(&reference))
            {
                assert_eq!(a.size(), b.size(), "{name}");
                let scale = b.abs().max().double_value(&[]);
                assert!(scale > 1e-3, "{name}: a gradient to compare");
                let gap = max_gap(a, b) / scale;
                assert!(
                    gap < 1e-4,
                    "{rows}×{past}×{hidden} {name}: relative gap {gap}"
                );
            }

            // Added into the variables' gradients: twice the reference now.
            accumulate(&ours.vars, &grads);
            let twice = grad("weight_hh_l0");
            assert!(max_gap(&twice, &(&reference[1] * 2.0)) < 1e-4);
        }
    }

    /// The buffers a pass leaves behind (another batch's shape, its activations) change
    /// nothing in the next one.
    #[test]
    fn a_reused_workspace_gives_the_bits_of_a_fresh_one() {
        let (_vs, _lstm, used, x) = layer(11, 9, 20);
        let (_vs2, _lstm2, fresh, _) = layer(11, 9, 20);
        // Fewer windows, more steps: its later states lie where the next pass starts.
        let other = Tensor::randn([2, 30], (Kind::Float, Device::Cpu));
        let h = used.forward(&other);
        let _ = used.gradients(&h.ones_like());
        let dh = Tensor::randn([11, 20], (Kind::Float, Device::Cpu));
        let (a, b) = (used.forward(&x), fresh.forward(&x));
        assert!(a.equal(&b));
        for (a, b) in used.gradients(&dh).iter().zip(&fresh.gradients(&dh)) {
            assert!(a.equal(b));
        }
    }

    #[test]
    fn one_step_windows_have_no_recurrent_gradient() {
        let (_vs, _lstm, ours, x) = layer(5, 1, 8);
        let h = ours.forward(&x);
        let g = ours.gradients(&h.ones_like());
        assert_eq!(g[1].abs().sum(Kind::Float).double_value(&[]), 0.0);
        assert!(g[0].abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }
}
