//! The network: the LSTM layer (libtorch's, trained through the written-out pass on CPU)
//! and the Linear–ReLU–Linear head, its forward passes, one training step's gradients and
//! the loss.

use tch::nn::{self, Module, RNN};
use tch::{Device, Kind, Reduction, Tensor};

use super::fused::{CpuLstm, LstmVars};
use super::{LstmConfig, QUANTILES};

pub(super) struct Net {
    lstm: nn::LSTM,
    head: nn::Sequential,
    /// The LSTM layer's written-out training pass (CPU only).
    cpu: Option<CpuLstm>,
}

impl Net {
    pub(super) fn new(vs: &nn::VarStore, cfg: &LstmConfig) -> Net {
        let root = vs.root();
        let lstm = nn::lstm(&root / "lstm", 1, cfg.hidden, Default::default());
        let head = nn::seq()
            .add(nn::linear(
                &root / "head1",
                cfg.hidden,
                cfg.head,
                Default::default(),
            ))
            .add_fn(|x| x.relu())
            .add(nn::linear(
                &root / "head2",
                cfg.head,
                1 + QUANTILES.len() as i64,
                Default::default(),
            ));
        let lstm_var = |n: &str| (&root / "lstm").get(n).expect("nn::lstm's variable");
        let cpu = (vs.device() == Device::Cpu).then(|| {
            CpuLstm::new(LstmVars {
                w_ih: lstm_var("weight_ih_l0"),
                w_hh: lstm_var("weight_hh_l0"),
                b_ih: lstm_var("bias_ih_l0"),
                b_hh: lstm_var("bias_hh_l0"),
            })
        });
        Net { lstm, head, cpu }
    }
    /// [batch, past] normalised windows → [batch, 1 + Q] (point, then quantiles).
    pub(super) fn forward(&self, x: &Tensor) -> Tensor {
        let (out, _) = self.lstm.seq(&x.unsqueeze(-1));
        self.head.forward(&out.select(1, -1))
    }
    /// [batch, past] windows → [batch, 1 + Q] without gradients, `chunk` windows at a time
    /// through the training pass's layer on CPU (its buffers stay a batch's size), through
    /// libtorch's otherwise.
    pub(super) fn outputs(&self, x: &Tensor, chunk: usize) -> Tensor {
        tch::no_grad(|| match &self.cpu {
            Some(layer) => {
                let parts: Vec<Tensor> = blocks(x, chunk)
                    .iter()
                    .map(|b| self.head.forward(&layer.forward(b)))
                    .collect();
                Tensor::cat(&parts, 0)
            }
            None => self.forward(x),
        })
    }
    /// The loss of windows `x` against `target`, times `w`; its gradients accumulated into
    /// the network's variables. On CPU the LSTM layer's pass is the written-out one
    /// (fused.rs), the head's is autograd's.
    pub(super) fn backward(&self, x: &Tensor, target: &Tensor, levels: &Tensor, w: f64) -> f64 {
        // On CPU autograd stops at the layer's last hidden state, whose gradient the
        // written-out pass takes from there.
        let last = self
            .cpu
            .as_ref()
            .map(|layer| (layer, layer.forward(x).set_requires_grad(true)));
        let out = match &last {
            Some((_, h)) => self.head.forward(h),
            None => self.forward(x),
        };
        let l = loss(&out, target, levels) * w;
        l.backward();
        if let Some((layer, h)) = last {
            layer.backward(&h.grad());
        }
        l.double_value(&[])
    }
}

/// `x`'s rows in consecutive blocks of `size` (the last may be shorter), as views.
pub(super) fn blocks(x: &Tensor, size: usize) -> Vec<Tensor> {
    let n = x.size()[0];
    let size = size.max(1) as i64;
    (0..n)
        .step_by(size as usize)
        .map(|s| x.narrow(0, s, size.min(n - s)))
        .collect()
}

pub(super) fn loss(out: &Tensor, target: &Tensor, levels: &Tensor) -> Tensor {
    let point = out.narrow(1, 0, 1);
    let q = out.narrow(1, 1, QUANTILES.len() as i64);
    let mse = point.mse_loss(target, Reduction::Mean);
    let d = target - &q;
    let pinball = (&d * levels)
        .maximum(&(&d * (levels - 1.0)))
        .mean(Kind::Float);
    mse + pinball
}

#[cfg(test)]
mod tests {
    use super::super::shards::ShardWorkers;
    use super::super::INIT;
    use super::*;

    /// Validation runs through the written-out layer in shards and chunks: the same rows,
    /// in the same order, as libtorch's LSTM gives.
    #[test]
    fn sharded_outputs_match_libtorch_row_for_row() {
        let cfg = LstmConfig::default();
        let vs = nn::VarStore::new(Device::Cpu);
        let (net, replica) = {
            let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
            tch::manual_seed(11);
            let rvs = nn::VarStore::new(Device::Cpu);
            let rnet = Net::new(&rvs, &cfg);
            (Net::new(&vs, &cfg), (rvs, rnet))
        };
        let x = Tensor::randn([45, cfg.past as i64], (Kind::Float, Device::Cpu));
        let reference = tch::no_grad(|| net.forward(&x));
        let gap = |t: &Tensor| (t - &reference).abs().max().double_value(&[]);
        assert!(gap(&net.outputs(&x, 16)) < 1e-5);
        let sharded = std::thread::scope(|scope| {
            let workers = ShardWorkers::spawn(scope, &vs, vec![replica]);
            workers.outputs(&vs, &net, &x, 16)
        });
        assert_eq!(sharded.size(), reference.size());
        assert!(gap(&sharded) < 1e-5, "{}", gap(&sharded));
    }
}
