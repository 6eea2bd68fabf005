//! Gradient shards: a batch's gradients computed in parts, shard 0 on the training thread
//! and each other shard on a worker thread of its own with its own copy of the network,
//! summed in a fixed order (the weights then do not depend on the thread count). Workers
//! live as long as the training, so their stacks and the matrix kernels' buffers are
//! made once rather than once a batch.

use std::collections::HashMap;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::Scope;

use tch::nn;
use tch::{Device, Tensor};

use super::net::{blocks, Net};

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

/// A worker's task, with the main network's current weights (in the workers' variable
/// order).
struct Job {
    weights: Vec<Tensor>,
    task: Task,
}

enum Task {
    /// The rows' loss, weighted by their share of the batch, and its gradients.
    Gradients {
        data: ShardData,
        rows: Vec<i64>,
        share: f64,
    },
    /// The network's outputs for windows `x`, `chunk` windows at a time.
    Outputs { x: Tensor, chunk: usize },
}

enum Done {
    Gradients { loss: f64, grads: Vec<Tensor> },
    Outputs(Tensor),
}

/// The worker threads of shards 1 … n − 1.
pub(super) struct ShardWorkers {
    /// The variables' names, in the order of `Job::weights` and `Done::Gradients::grads`.
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

    /// Sends `task` to worker `k` with `main`'s weights.
    fn send(&self, k: usize, main: &HashMap<String, Tensor>, task: Task) {
        let weights = tch::no_grad(|| {
            self.names
                .iter()
                .map(|name| main[name].detach().copy())
                .collect()
        });
        self.jobs[k]
            .send(Job { weights, task })
            .expect("a gradient shard's worker stopped");
    }

    /// Rows per shard for `n` rows: shard k takes rows k · size … (k + 1) · size.
    fn shard_size(&self, n: usize) -> usize {
        n.div_ceil(self.jobs.len() + 1).max(1)
    }

    fn receive(&self, k: usize) -> Done {
        self.done[k].recv().expect("a gradient shard panicked")
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
        let parts: Vec<&[i64]> = chunk.chunks(self.shard_size(n)).collect();
        let share = |p: &[i64]| p.len() as f64 / n as f64;
        let main = vs.variables();
        for (k, part) in parts[1..].iter().enumerate() {
            let task = Task::Gradients {
                data: batch.shard(),
                rows: part.to_vec(),
                share: share(part),
            };
            self.send(k, &main, task);
        }
        let mut loss = batch.shard().backward(net, parts[0], share(parts[0]));
        for k in 0..parts.len() - 1 {
            let Done::Gradients { loss: l, grads } = self.receive(k) else {
                unreachable!("a gradient task answered with outputs")
            };
            loss += l;
            tch::no_grad(|| {
                for (name, theirs) in self.names.iter().zip(&grads) {
                    let mut g = main[name].grad();
                    let _sum = g
                        .f_add_(theirs)
                        .expect("a replica's gradient has its variable's shape");
                }
            });
        }
        loss
    }

    /// The network's outputs for windows `x` ([rows, past]) with `vs`'s weights, no
    /// gradients: the rows split in shards as a batch's are, each shard `chunk` windows at a
    /// time, the outputs in row order.
    pub(super) fn outputs(&self, vs: &nn::VarStore, net: &Net, x: &Tensor, chunk: usize) -> Tensor {
        let parts = blocks(x, self.shard_size(x.size()[0] as usize));
        let main = vs.variables();
        for (k, part) in parts.iter().skip(1).enumerate() {
            let x = part.shallow_clone();
            self.send(k, &main, Task::Outputs { x, chunk });
        }
        let mut outs = vec![net.outputs(&parts[0], chunk)];
        for k in 0..parts.len() - 1 {
            let Done::Outputs(out) = self.receive(k) else {
                unreachable!("an output task answered with gradients")
            };
            outs.push(out);
        }
        Tensor::cat(&outs, 0)
    }
}

/// A worker: for each job, the replica takes the job's weights and does its task.
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
        let answer = match job.task {
            Task::Gradients { data, rows, share } => {
                let loss = data.backward(rnet, &rows, share);
                let grads = vars.iter().map(|v| v.grad().copy()).collect();
                Done::Gradients { loss, grads }
            }
            Task::Outputs { x, chunk } => Done::Outputs(rnet.outputs(&x, chunk)),
        };
        if done.send(answer).is_err() {
            return;
        }
    }
}
