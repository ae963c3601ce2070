"""Part 1 of the PySyft tutorials, "Basic tools of private deep learning", cell by cell,
on syft_rs (NumPy instead of PyTorch).

Run: ``python python/tutorials/part01_basic_tools.py`` after ``pip install ./python``.
"""

import syft_rs as sy

# ## Part -1: Prerequisites. `import torch; import syft as sy; hook = sy.TorchHook(torch)`
# becomes one import: syft_rs needs no hook.

# ## Part 0: Tensors, locally
x = sy.tensor([1, 2, 3, 4, 5])
print(x)

x = sy.tensor([1, 2, 3, 4, 5])
y = x + x
print(y)

# ## Part 1: Sending tensors to Bob
bob = sy.VirtualWorker(id="bob")

x = sy.tensor([1, 2, 3, 4, 5])
y = sy.tensor([1, 1, 1, 1, 1])

x_ptr = x.send(bob)
y_ptr = y.send(bob)

print(x_ptr)
print("bob._objects:", bob._objects)

z = x_ptr + x_ptr
print(z)
print("bob._objects:", bob._objects)

# Pointer metadata: <id_at_location>@<location>
print(x_ptr)
print("x_ptr.location:", x_ptr.location)
print("bob:", bob)
print("bob == x_ptr.location:", bob == x_ptr.location)
print("x_ptr.id_at_location:", x_ptr.id_at_location)
print("x_ptr.owner:", x_ptr.owner)

me = sy.local_worker
print("me:", me)
print("me == x_ptr.owner:", me == x_ptr.owner)

# get() brings the data back (and removes it from bob)
print(x_ptr)
print(x_ptr.get())
print(y_ptr.get())
print(z.get())
print("bob._objects:", bob._objects)

# ## Part 2: Using tensor pointers
x = sy.tensor([1, 2, 3, 4, 5]).send(bob)
y = sy.tensor([1, 1, 1, 1, 1]).send(bob)
z = x + y
print(z)
print(z.get())

# Torch functions: torch.add(x, y)
z = sy.add(x, y)
print(z)
print(z.get())

# Variables (including backpropagation)
x = sy.tensor([1, 2, 3, 4, 5.0], requires_grad=True).send(bob)
y = sy.tensor([1, 1, 1, 1, 1.0], requires_grad=True).send(bob)

z = (x + y).sum()
z.backward()

x = x.get()
print(x)
print(x.grad)
