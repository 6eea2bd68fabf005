//! Gradient shards: a batch's gradients computed in parts, each on its own thread with
//! its own copy of the network, and summed in a fixed order (the weights then do not
//! depend on the thread count).

use tch::nn;
use tch::{Device, Tensor};

use super::Net;

/// One batch's data, shared by its gradient shards.
pub(super) struct Batch<'a> {
    pub x: &'a Tensor,
    pub target: &'a Tensor,
    pub levels: &'a Tensor,
    pub device: Device,
}

/// One shard's data: shallow copies of the batch's tensors (a tensor may move to another
/// thread but not be shared with one).
struct ShardData {
    x: Tensor,
    target: Tensor,
    levels: Tensor,
    device: Device,
}

impl ShardData {
    /// The loss of the rows `idx`, weighted by their share `w` of the batch; its gradients
    /// accumulated into `net`'s variables.
    fn backward(&self, net: &Net, idx: &[i64], w: f64) -> f64 {
        let i = Tensor::from_slice(idx).to(self.device);
        net.backward(
            &self.x.index_select(0, &i),
            &self.target.index_select(0, &i),
            &self.levels,
            w,
        )
    }
}

impl Batch<'_> {
    fn shard(&self) -> ShardData {
        ShardData {
            x: self.x.shallow_clone(),
            target: self.target.shallow_clone(),
            levels: self.levels.shallow_clone(),
            device: self.device,
        }
    }

    /// The batch `chunk`'s mean loss, its gradients in `vs` (zeroed before): shard 0 on
    /// this thread with `net`, shard k on its own thread with replica k − 1 (weights copied
    /// from `vs` first), and the replicas' gradients added into `vs` in shard order.
    pub(super) fn sharded_backward(
        &self,
        vs: &nn::VarStore,
        net: &Net,
        replicas: &mut [(nn::VarStore, Net)],
        chunk: &[i64],
    ) -> f64 {
        let n = chunk.len();
        let size = n.div_ceil(replicas.len() + 1).max(1);
        let parts: Vec<&[i64]> = chunk.chunks(size).collect();
        let used = parts.len() - 1;
        let main = vs.variables();
        tch::no_grad(|| {
            for (rvs, _) in replicas.iter().take(used) {
                for (name, mut v) in rvs.variables() {
                    v.copy_(&main[&name]);
                    v.zero_grad();
                }
            }
        });
        let share = |p: &[i64]| p.len() as f64 / n as f64;
        let losses: Vec<f64> = std::thread::scope(|s| {
            let others: Vec<_> = replicas
                .iter_mut()
                .zip(parts.iter().skip(1))
                .map(|((_, rnet), &part)| {
                    let data = self.shard();
                    let rnet: &mut Net = rnet;
                    s.spawn(move || data.backward(rnet, part, share(part)))
                })
                .collect();
            let mut out = vec![self.shard().backward(net, parts[0], share(parts[0]))];
            out.extend(
                others
                    .into_iter()
                    .map(|h| h.join().expect("a gradient shard panicked")),
            );
            out
        });
        tch::no_grad(|| {
            for (rvs, _) in replicas.iter().take(used) {
                let theirs = rvs.variables();
                for (name, v) in &main {
                    let mut g = v.grad();
                    let _sum = g
                        .f_add_(&theirs[name].grad())
                        .expect("a replica's gradient has its variable's shape");
                }
            }
        });
        losses.iter().sum()
    }
}
