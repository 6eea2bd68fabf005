//! Gradient shards: a batch's gradients computed in parts, shard 0 on the training thread
//! and each other shard on a worker thread of its own with its own copy of the network,
//! summed in a fixed order (the weights then do not depend on the thread count). Workers
//! live as long as the training, so their stacks and the matrix kernels' buffers are
//! made once rather than once a batch.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::Scope;

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
}

/// A worker's task: the batch's current weights (in the workers' variable order), its rows
/// and their share of the batch.
struct Job {
    weights: Vec<Tensor>,
    data: ShardData,
    rows: Vec<i64>,
    share: f64,
}

/// A worker's answer: its rows' weighted loss and its variables' gradients.
struct Done {
    loss: f64,
    grads: Vec<Tensor>,
}

/// The worker threads of shards 1 … n − 1.
pub(super) struct ShardWorkers {
    /// The variables' names, in the order of `Job::weights` and `Done::grads`.
    names: Vec<String>,
    jobs: Vec<Sender<Job>>,
    done: Vec<Receiver<Done>>,
}

impl ShardWorkers {
    /// One worker per replica network (each a copy of the main one's architecture), living
    /// until the returned value is dropped and `scope` ends.
    pub(super) fn spawn<'scope>(
        scope: &'scope Scope<'scope, '_>,
        main: &nn::VarStore,
        replicas: Vec<(nn::VarStore, Net)>,
    ) -> ShardWorkers {
        let mut names: Vec<String> = main.variables().into_keys().collect();
        names.sort();
        let (mut jobs, mut done) = (vec![], vec![]);
        for (rvs, rnet) in replicas {
            let (job_tx, job_rx) = channel::<Job>();
            let (done_tx, done_rx) = channel::<Done>();
            let names = names.clone();
            scope.spawn(move || work(&rvs, &rnet, &names, job_rx, done_tx));
            jobs.push(job_tx);
            done.push(done_rx);
        }
        ShardWorkers { names, jobs, done }
    }

    /// The batch `chunk`'s mean loss, its gradients in `vs` (zeroed before): shard 0 on this
    /// thread with `net`, shard k on worker k − 1 (given `vs`'s weights first), and the
    /// workers' gradients added into `vs` in shard order.
    pub(super) fn backward(
        &self,
        batch: &Batch,
        vs: &nn::VarStore,
        net: &Net,
        chunk: &[i64],
    ) -> f64 {
        let n = chunk.len();
        let size = n.div_ceil(self.jobs.len() + 1).max(1);
        let parts: Vec<&[i64]> = chunk.chunks(size).collect();
        let share = |p: &[i64]| p.len() as f64 / n as f64;
        let main = vs.variables();
        for (jobs, part) in self.jobs.iter().zip(&parts[1..]) {
            let weights = tch::no_grad(|| {
                self.names
                    .iter()
                    .map(|name| main[name].detach().copy())
                    .collect()
            });
            let job = Job {
                weights,
                data: batch.shard(),
                rows: part.to_vec(),
                share: share(part),
            };
            jobs.send(job).expect("a gradient shard's worker stopped");
        }
        let mut loss = batch.shard().backward(net, parts[0], share(parts[0]));
        for done in self.done.iter().take(parts.len() - 1) {
            let done = done.recv().expect("a gradient shard panicked");
            loss += done.loss;
            tch::no_grad(|| {
                for (name, theirs) in self.names.iter().zip(&done.grads) {
                    let mut g = main[name].grad();
                    let _sum = g
                        .f_add_(theirs)
                        .expect("a replica's gradient has its variable's shape");
                }
            });
        }
        loss
    }
}

/// A worker: for each job, the replica takes the job's weights, zeroes its gradients,
/// computes its rows' and sends them back.
fn work(rvs: &nn::VarStore, rnet: &Net, names: &[String], jobs: Receiver<Job>, done: Sender<Done>) {
    let vars = rvs.variables();
    let vars: Vec<Tensor> = names.iter().map(|n| vars[n].shallow_clone()).collect();
    for job in jobs {
        tch::no_grad(|| {
            for (v, w) in vars.iter().zip(&job.weights) {
                let mut v = v.shallow_clone();
                v.copy_(w);
                v.zero_grad();
            }
        });
        let loss = job.data.backward(rnet, &job.rows, job.share);
        let grads = vars.iter().map(|v| v.grad().copy()).collect();
        if done.send(Done { loss, grads }).is_err() {
            return;
        }
    }
}
