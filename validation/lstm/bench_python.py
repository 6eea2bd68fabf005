"""PyTorch 2.13.0 on the same data, windows and architecture as benches/lstm.rs:
60-step windows -> mean of the next 15, LSTM(64) + Linear(64,32)-ReLU-Linear(32,1+11),
MSE + pinball loss, Adam 1e-3, batch 128, 5 epochs, 80/20 time-ordered split.
The data is the prototype's run.csv first week. Prints median seconds over 3 runs."""
import os
import statistics
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
rows = open(os.path.join(HERE, "..", "..", "data", "seed", "run.csv")).read().splitlines()[1:]
y = torch.tensor([float(r.split(",")[1]) for r in rows], dtype=torch.float32)
Q = torch.tensor([0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95, 0.975, 0.99]).reshape(1, -1)


def windows(series, past=60, ahead=15):
    n = len(series) - past - ahead + 1
    x = torch.stack([series[t - past:t] for t in range(past, past + n)])
    t = torch.stack([series[t:t + ahead].mean() for t in range(past, past + n)]).reshape(-1, 1)
    return x, t


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(1, 64, batch_first=True)
        self.head = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 12))

    def forward(self, x):
        out, _ = self.lstm(x.unsqueeze(-1))
        return self.head(out[:, -1])


def loss(out, t):
    d = t - out[:, 1:]
    return torch.nn.functional.mse_loss(out[:, :1], t) + torch.maximum(d * Q, d * (Q - 1)).mean()


def train(series):
    torch.manual_seed(7)
    mean, std = series.mean(), series.std(unbiased=False)
    x, t = windows((series - mean) / std)
    split = len(x) * 4 // 5
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(5):
        perm = torch.randperm(split)
        for i in range(0, split, 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            l = loss(net(x[idx]), t[idx])
            l.backward()
            opt.step()
        with torch.no_grad():
            loss(net(x[split:]), t[split:])
    return net, mean, std


def infer(net, mean, std, series):
    with torch.no_grad():
        x = torch.stack([(series[e - 60:e] - mean) / std for e in range(10080, 20160)])
        return net(x)


times, inf = [], []
for _ in range(3):
    t0 = time.perf_counter()
    net, mean, std = train(y[:10080])
    times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    infer(net, mean, std, y)
    inf.append(time.perf_counter() - t0)
print(f"torch threads {torch.get_num_threads()}")
print(f"train 7 days, 5 epochs: median {statistics.median(times):.3f} s")
print(f"inference 10080 decisions: median {statistics.median(inf):.3f} s")
