"""Part 3 of the PySyft tutorials, "Advanced remote execution tools", cell by cell, on
syft_rs: pointers to pointers, arithmetic through a chain, and ``move``.

Run: ``python python/tutorials/part03_advanced_remote_execution.py``.
"""

import syft_rs as sy

bob = sy.VirtualWorker(id="bob")
alice = sy.VirtualWorker(id="alice")

# ## Section 3.1: Pointers to pointers
# a local tensor
x = sy.tensor([1, 2, 3, 4])
print(x)

# send the local tensor to Bob
x_ptr = x.send(bob)

# now we have a pointer
print(x_ptr)

# now we can SEND THE POINTER to alice!!!
pointer_to_x_ptr = x_ptr.send(alice)
print(pointer_to_x_ptr)

# As you can see, Bob still has the actual data (data is always stored in a LocalTensor type).
print("bob._objects:", bob._objects)

# Alice, on the other hand, has x_ptr!! (notice how it points at bob)
print("alice._objects:", alice._objects)

# and we can use .get() to get x_ptr back from Alice
x_ptr = pointer_to_x_ptr.get()
print(x_ptr)

# and then we can use x_ptr to get x back from Bob!
x = x_ptr.get()
print(x)

# ## Arithmetic on Pointer -> Pointer -> Data Object
print("bob._objects:", bob._objects)
print("alice._objects:", alice._objects)

p2p2x = sy.tensor([1, 2, 3, 4, 5]).send(bob).send(alice)
y = p2p2x + p2p2x

print("bob._objects:", bob._objects)
print("alice._objects:", alice._objects)

print(y.get().get())

print("bob._objects:", bob._objects)
print("alice._objects:", alice._objects)

print(p2p2x.get().get())

print("bob._objects:", bob._objects)
print("alice._objects:", alice._objects)

# ## Section 3.2: Pointer chain operations
# x is now a pointer to the data which lives on Bob's machine
x = sy.tensor([1, 2, 3, 4, 5]).send(bob)

print("  bob:", bob._objects)
print("alice:", alice._objects)

x = x.move(alice)

print("  bob:", bob._objects)
print("alice:", alice._objects)

print(x)
print(x.get())
