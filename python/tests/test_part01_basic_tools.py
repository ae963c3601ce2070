"""Part 1, "Basic tools of private deep learning", cell by cell, with the observable
state (values, bob's objects, pointer metadata) asserted after each cell."""

import numpy as np

import syft_rs as sy


def test_local_tensors():
    x = sy.tensor([1, 2, 3, 4, 5])
    y = x + x
    assert y.dtype == "int64"
    assert y.tolist() == [2, 4, 6, 8, 10]
    f = sy.Tensor(np.array([1.0, 2.0, 3.0], dtype=np.float64))
    assert f.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(f * 2), [2.0, 4.0, 6.0])


def test_sending_tensors_pointers_and_get(workers):
    bob = workers("bob")
    assert repr(bob) == "<VirtualWorker id:bob>"
    x = sy.tensor([1, 2, 3, 4, 5])
    y = sy.tensor([1, 1, 1, 1, 1])
    x_ptr = x.send(bob)
    y_ptr = y.send(bob)
    assert set(bob._objects) == {x_ptr.id_at_location, y_ptr.id_at_location}

    z = x_ptr + x_ptr
    assert len(bob._objects) == 3
    assert z.location == bob

    # metadata: <id_at_location>@<location>
    assert str(x_ptr) == f"{x_ptr.id_at_location}@bob"
    assert x_ptr.location == bob
    assert bob == x_ptr.location
    assert x_ptr.id != x_ptr.id_at_location
    assert x_ptr.owner == sy.local_worker
    assert sy.local_worker == x_ptr.owner
    assert x_ptr.owner.id == "me"
    assert "PointerTensor" in repr(x_ptr)

    # get() brings the data back and removes it from bob
    assert x_ptr.get().tolist() == [1, 2, 3, 4, 5]
    assert bob.object_count() == 2
    assert y_ptr.get().tolist() == [1, 1, 1, 1, 1]
    assert z.get().tolist() == [2, 4, 6, 8, 10]
    assert bob._objects == {}


def test_using_tensor_pointers(workers):
    bob = workers("bob")
    x = sy.tensor([1, 2, 3, 4, 5]).send(bob)
    y = sy.tensor([1, 1, 1, 1, 1]).send(bob)
    z = x + y
    assert z.get().tolist() == [2, 3, 4, 5, 6]
    # torch.add(x, y)
    z = sy.add(x, y)
    assert z.get().tolist() == [2, 3, 4, 5, 6]
    # float tensors: products and sums run on bob
    a = sy.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)).send(bob)
    b = sy.tensor(np.ones((3, 2), dtype=np.float32)).send(bob)
    np.testing.assert_array_equal((a @ b).get().numpy(), [[3, 3], [12, 12]])
    np.testing.assert_array_equal((a * 2.0).sum().get().numpy(), 30.0)
    np.testing.assert_array_equal((a - a).relu().get().numpy(), np.zeros((2, 3)))
    del x, y, a, b
    assert bob.object_count() == 0, "dropped pointers delete their objects"


def test_remote_autograd(workers):
    bob = workers("bob")
    x = sy.tensor([1, 2, 3, 4, 5.0], requires_grad=True).send(bob)
    y = sy.tensor([1, 1, 1, 1, 1.0], requires_grad=True).send(bob)
    z = (x + y).sum()
    z.backward()
    x = x.get()
    assert x.requires_grad
    assert x.tolist() == [1, 2, 3, 4, 5]
    assert x.grad.tolist() == [1, 1, 1, 1, 1]
    # The gradient of y is reachable as a pointer on bob.
    assert y.grad.get().tolist() == [1, 1, 1, 1, 1]
    del y, z
    assert bob.object_count() == 0


def test_local_autograd_matches_numpy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 4)).astype(np.float32)
    w = rng.normal(size=(4, 2)).astype(np.float32)
    x = sy.tensor(a, requires_grad=True)
    loss = ((x @ sy.tensor(w)) ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (a @ w) @ w.T, rtol=1e-5)
    np.testing.assert_allclose(loss.item(), ((a @ w) ** 2).sum(), rtol=1e-5)
