# LeNet as the "Neural Networks" tutorial of the PyTorch 60-minute blitz writes it:
# define the network, compute a loss, backpropagate, update the weights by hand and
# with torch.optim; then a few training steps on generated 32x32 images.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square convolution
        # kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        # an affine operation: y = Wx + b
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5*5 from image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        # Convolution layer C1: 1 input image channel, 6 output channels,
        # 5x5 square convolution, it uses RELU activation function, and
        # outputs a Tensor with size (N, 6, 28, 28), where N is the size of the batch
        c1 = F.relu(self.conv1(input))
        # Subsampling layer S2: 2x2 grid, purely functional,
        # this layer does not have any parameter, and outputs a (N, 6, 14, 14) Tensor
        s2 = F.max_pool2d(c1, (2, 2))
        # Convolution layer C3: 6 input channels, 16 output channels,
        # 5x5 square convolution, it uses RELU activation function, and
        # outputs a (N, 16, 10, 10) Tensor
        c3 = F.relu(self.conv2(s2))
        # Subsampling layer S4: 2x2 grid, purely functional,
        # this layer does not have any parameter, and outputs a (N, 16, 5, 5) Tensor
        s4 = F.max_pool2d(c3, 2)
        # Flatten operation: purely functional, outputs a (N, 400) Tensor
        s4 = torch.flatten(s4, 1)
        # Fully connected layer F5: (N, 400) Tensor input,
        # and outputs a (N, 120) Tensor, it uses RELU activation function
        f5 = F.relu(self.fc1(s4))
        # Fully connected layer F6: (N, 120) Tensor input,
        # and outputs a (N, 84) Tensor, it uses RELU activation function
        f6 = F.relu(self.fc2(f5))
        # Gaussian layer OUTPUT: (N, 84) Tensor input, and
        # outputs a (N, 10) Tensor
        output = self.fc3(f6)
        return output


def fixed_init(model):
    "Weights from a formula instead of a random stream, scaled by 1/sqrt(fan-in)."
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            pattern = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + k)
            p.copy_(pattern.reshape(p.shape) / math.sqrt(fan_in))


net = Net()
fixed_init(net)
print(net)

params = list(net.parameters())
print(len(params))
print(params[0].size())  # conv1's .weight

# an image made from a formula (the tutorial uses torch.randn(1, 1, 32, 32))
grid = torch.arange(32, dtype=torch.float32)
input = torch.sin(grid.view(1, 1, 32, 1) * 0.3) * torch.cos(grid.view(1, 1, 1, 32) * 0.2)
out = net(input)
print(out)

net.zero_grad()
out.backward(torch.linspace(-1, 1, 10).view(1, 10))
print(net.fc3.bias.grad)

output = net(input)
target = torch.cos(torch.arange(10.0))  # a dummy target, for example
target = target.view(1, -1)  # make it the same shape as output
criterion = nn.MSELoss()

loss = criterion(output, target)
print(loss)

print(loss.grad_fn)  # MSELoss
print(loss.grad_fn.next_functions[0][0])  # Linear
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])  # ReLU

net.zero_grad()  # zeroes the gradient buffers of all parameters

print('conv1.bias.grad before backward')
print(net.conv1.bias.grad)

loss.backward()

print('conv1.bias.grad after backward')
print(net.conv1.bias.grad)

learning_rate = 0.01
for f in net.parameters():
    f.data.sub_(f.grad.data * learning_rate)

# create your optimizer
optimizer = optim.SGD(net.parameters(), lr=0.01)

# in your training loop:
optimizer.zero_grad()  # zero the gradient buffers
output = net(input)
loss = criterion(output, target)
loss.backward()
optimizer.step()  # Does the update
print(f"after one SGD step: {criterion(net(input), target).item():.6f}")

# A few training steps on a batch of 20 generated images of 10 classes: each class is a
# stripe pattern of its own frequency; the target is the one-hot class (MSE as above).
labels = torch.arange(20) % 10
rows = grid.view(1, 32, 1)
cols = grid.view(1, 1, 32)
freq = (labels.float() + 1).view(-1, 1, 1) * 0.15
images = torch.sin(rows * freq + cols * 0.1 * (labels.view(-1, 1, 1) % 3)).unsqueeze(1)
targets = F.one_hot(labels, num_classes=10).float()
print(images.shape, targets.shape, images.mean().item())

optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for step in range(30):
    optimizer.zero_grad()
    output = net(images)
    loss = criterion(output, targets)
    loss.backward()
    optimizer.step()
    if step % 5 == 4:
        accuracy = (output.argmax(dim=1) == labels).float().mean().item()
        print(f"step {step + 1:2d} loss {loss.item():.5f} accuracy {accuracy:.2f}")

with torch.no_grad():
    print(net(images[:3]).argmax(1), net.conv1.weight[0, 0, 0])
