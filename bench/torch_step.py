"""PyTorch's training step of the paper's MLP on one thread, for bench/train.bench.ts.

The same network and step as the trainer: 784-256-256-256-256-10, ReLU, dropout after each
hidden layer (when on), softmax cross-entropy, Adam (lr 1e-3, betas 0.9/0.999, eps 1e-7), batch
128. Reads commands on stdin, one per line: "<dropout 0|1> <steps>"; answers with the wall and
CPU milliseconds per step as JSON on stdout, so the benchmark can interleave it with its own
measurements. Run with /usr/bin/python3 (Debian's python3-torch); OpenBLAS tuning variables of
the environment should be unset (the benchmark does so).
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
BATCH = 128


def network(dropout):
    layers = []
    sizes = [784, 256, 256, 256, 256]
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        if dropout:
            layers.append(torch.nn.Dropout(0.5))
    layers.append(torch.nn.Linear(256, 10))
    return torch.nn.Sequential(*layers)


data = torch.rand(64, BATCH, 784)
labels = torch.randint(0, 10, (64, BATCH))
models = {}
for dropout in (0, 1):
    model = network(dropout)
    model.train()
    models[dropout] = (model, torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7))
loss_fn = torch.nn.CrossEntropyLoss()


def steps(dropout, n):
    model, opt = models[dropout]
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(data[i % 64]), labels[i % 64])
        loss.backward()
        opt.step()
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


steps(0, 10)
steps(1, 10)
print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    dropout, n = (int(v) for v in line.split())
    wall, cpu = steps(dropout, n)
    print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
