# A CIFAR-10-style training script, reduced: a small CNN with BatchNorm2d, max and
# average pooling, the device idiom, train/eval switching, validation under
# torch.no_grad(), ReduceLROnPlateau, and forward hooks that record activations.
# The 3x16x16 "photos" of 4 classes are computed, not loaded.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

# float64 throughout, so that the two libraries' float32 roundings (which max pooling's
# near-ties and ReLU's kinks amplify over the epochs) do not decide the printed digits;
# layers, data and optimizer state all follow the default dtype.
torch.set_default_dtype(torch.float64)
print(torch.get_default_dtype(), torch.nn.Linear(2, 2).weight.dtype)

device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"Using {device} device")

classes = ('plane', 'car', 'bird', 'cat')


def make_images(n, offset):
    "Images whose class sets the orientation of their stripes and their main colour."
    index = torch.arange(offset, offset + n)
    labels = index % 4
    angle = (labels.float() * math.pi / 4).view(-1, 1, 1, 1)
    r = torch.arange(16.0).view(1, 1, 16, 1)
    c = torch.arange(16.0).view(1, 1, 1, 16)
    along = torch.cos(angle) * r + torch.sin(angle) * c
    phase = (index.float() * 0.9).view(-1, 1, 1, 1)
    stripes = torch.sin(0.8 * along + phase)  # (n, 1, 16, 16)
    colour = torch.stack([torch.cos(labels.float() + k) for k in range(3)], dim=1)
    images = stripes * (0.6 + 0.4 * colour.view(-1, 3, 1, 1))
    pixels = (images + 1) / 2  # in [0, 1], as transforms.ToTensor() gives
    # normalize as transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)) would
    return (pixels - 0.5) / 0.5, labels


x_train, y_train = make_images(256, 0)
x_test, y_test = make_images(64, 5000)
trainloader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=False)
testloader = DataLoader(TensorDataset(x_test, y_test), batch_size=32, shuffle=False)
images, labels = next(iter(trainloader))
print(images.shape, ' '.join(f'{classes[labels[j]]:5s}' for j in range(4)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 32),
            nn.ReLU(),
            nn.Dropout(0.0),
            nn.Linear(32, len(classes)),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


net = Net()
with torch.no_grad():
    for k, (name, p) in enumerate(net.named_parameters()):
        pattern = torch.sin(torch.arange(p.numel()) * 2.3 + k).view(p.shape)
        if p.dim() > 1:  # convolution and linear weights
            p.copy_(pattern * math.sqrt(3.0 / p[0].numel()))
        elif 'features.1' in name or 'features.5' in name:  # batch norm: 1 and 0
            p.fill_(1.0 if name.endswith('weight') else 0.0)
        else:  # biases
            p.copy_(0.05 * pattern)
net.to(device)
print(net)
print(sum(p.numel() for p in net.parameters() if p.requires_grad))
print([name for name, _ in net.named_buffers()])

# forward hooks: record the shape and the mean of every block's output
activations = {}


def save_activation(name):
    def hook(module, input, output):
        activations[name] = (tuple(output.shape), output.detach().mean().item())
    return hook


handles = [net.features[i].register_forward_hook(save_activation(f'features.{i}'))
           for i in (1, 3, 7)]
handles.append(net.classifier.register_forward_hook(save_activation('classifier')))
net.eval()
with torch.no_grad():
    net(images.to(device))
for name, (shape, mean) in activations.items():
    print(name, shape, f"{mean:.5f}")
for handle in handles:
    handle.remove()
activations.clear()

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='min', factor=0.5,
                                                 patience=0, threshold=0.3)


def evaluate(loader):
    net.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for data in loader:
            images, labels = data[0].to(device), data[1].to(device)
            outputs = net(images)
            loss_sum += criterion(outputs, labels).item() * labels.size(0)
            _, predicted = torch.max(outputs, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return loss_sum / total, correct / total


for epoch in range(6):  # loop over the dataset multiple times
    net.train()
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        # get the inputs; data is a list of [inputs, labels]
        inputs, labels = data[0].to(device), data[1].to(device)

        # zero the parameter gradients
        optimizer.zero_grad()

        # forward + backward + optimize
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        running_loss += loss.item()
    val_loss, val_acc = evaluate(testloader)
    scheduler.step(val_loss)
    print(f'[{epoch + 1}] loss: {running_loss / len(trainloader):.4f} '
          f'val loss: {val_loss:.4f} val acc: {val_acc:.3f} '
          f'lr: {optimizer.param_groups[0]["lr"]:.4f}')

print('Finished Training')
bn = net.features[1]
print(bn)
print(bn.running_mean[:4], bn.running_var[:4], bn.num_batches_tracked)
print(bn.weight.data[:4], [f'{b:.4f}' for b in bn.bias.tolist()[:4]])

# prepare to count predictions for each class
correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}
net.eval()
with torch.no_grad():
    for images, labels in testloader:
        outputs = net(images)
        _, predictions = torch.max(outputs, 1)
        # collect the correct predictions for each class
        for label, prediction in zip(labels, predictions):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1

# print accuracy for each class
for classname, correct_count in correct_pred.items():
    accuracy = 100 * float(correct_count) / total_pred[classname]
    print(f'Accuracy for class: {classname:5s} is {accuracy:.1f} %')

state = net.state_dict()
print(len(state), list(state)[:7])
print(state['features.1.num_batches_tracked'], state['features.1.running_var'].dtype)
