# Training with a multi-process DataLoader, a checkpoint and a resumed run: the model,
# the optimizer and the learning-rate scheduler are saved with torch.save after a few
# epochs, loaded into fresh objects, and training goes on; the resumed run must end
# with the same parameters as the uninterrupted one.
import math
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class WaveDataset(Dataset):
    "Points of a few noisy-looking (but computed) waves; the target is the wave's kind."

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        t = torch.linspace(0, 2 * math.pi, 12)
        kind = i % 3
        phase = 0.1 * (i % 7)
        if kind == 0:
            x = torch.sin(t + phase)
        elif kind == 1:
            x = torch.sign(torch.sin(t + phase)) * 0.8
        else:
            x = ((t + phase) % (2 * math.pi)) / math.pi - 1
        x = x + 0.05 * torch.cos(t * (i % 5 + 1))
        return {"signal": x, "label": kind, "index": i}


def collate(batch):
    "Stack the signals, gather the labels into a tensor, keep the indices as a list."
    signals = torch.stack([item["signal"] for item in batch])
    labels = torch.tensor([item["label"] for item in batch])
    return signals, labels, [item["index"] for item in batch]


def worker_init_fn(worker_id):
    # each worker would seed its own libraries here; nothing random is drawn below
    info = torch.utils.data.get_worker_info()
    assert info.id == worker_id and info.num_workers == 2


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 24)
        self.fc2 = nn.Linear(24, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def make_model():
    model = Net()
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            p.copy_(0.3 * torch.cos(torch.arange(p.numel()) * 0.9 + k).view(p.shape))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.7)
    return model, optimizer, scheduler


def train_epoch(model, optimizer, scheduler, loader):
    model.train()
    total, count, seen = 0.0, 0, []
    for signals, labels, indices in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(signals), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
        seen += indices
    scheduler.step()
    return total / count, seen


def main():
    dataset = WaveDataset(90)
    loader = DataLoader(dataset, batch_size=16, shuffle=False, num_workers=2,
                        worker_init_fn=worker_init_fn, collate_fn=collate)
    signals, labels, indices = next(iter(loader))
    print(len(loader), signals.shape, labels, indices[:5])

    # the uninterrupted run
    model, optimizer, scheduler = make_model()
    for epoch in range(6):
        loss, seen = train_epoch(model, optimizer, scheduler, loader)
        print(f"epoch {epoch} loss {loss:.5f} lr {scheduler.get_last_lr()[0]:.5f} "
              f"order kept {seen == list(range(90))}")
    reference = [p.detach().clone() for p in model.parameters()]

    # the interrupted run: 3 epochs, a checkpoint, then fresh objects resume
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "checkpoint.pt")
        model, optimizer, scheduler = make_model()
        for epoch in range(3):
            loss, _ = train_epoch(model, optimizer, scheduler, loader)
            print(f"epoch {epoch} loss {loss:.5f}")
        torch.save({
            "epoch": epoch,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        }, path)
        del model, optimizer, scheduler

        model, optimizer, scheduler = make_model()
        checkpoint = torch.load(path)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        start = checkpoint["epoch"] + 1
        print(sorted(checkpoint), start, sorted(checkpoint["optimizer"]["state"][0]))
        print(checkpoint["scheduler"]["last_epoch"], checkpoint["scheduler"]["_last_lr"])
        for epoch in range(start, 6):
            loss, _ = train_epoch(model, optimizer, scheduler, loader)
            print(f"epoch {epoch} loss {loss:.5f} lr {scheduler.get_last_lr()[0]:.5f}")

    same = [torch.equal(p, q) for p, q in zip(model.parameters(), reference)]
    print("same parameters:", same)
    print(optimizer.state_dict()["state"][0]["step"], model.fc2.bias.data)

    model.eval()
    with torch.no_grad():
        signals = torch.stack([dataset[i]["signal"] for i in range(6)])
        print(model(signals).argmax(dim=1), F.softmax(model(signals), dim=1)[:2])


if __name__ == "__main__":
    main()
