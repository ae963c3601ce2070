"""Part 3, "Advanced remote execution tools": pointers to pointers, arithmetic through a
chain, and ``move``, with both workers' stores asserted after each cell."""

import syft_rs as sy


def counts(bob, alice):
    return bob.object_count(), alice.object_count()


def test_pointers_to_pointers(workers):
    bob, alice = workers("bob", "alice")
    x = sy.tensor([1, 2, 3, 4])
    x_ptr = x.send(bob)
    data_id = x_ptr.id_at_location
    pointer_to_x_ptr = x_ptr.send(alice)
    assert pointer_to_x_ptr.location == alice
    # bob holds the data, alice a pointer to it
    assert list(bob._objects) == [data_id]
    assert list(alice._objects.values()) == [f"pointer -> {data_id}@bob"]
    x_ptr = pointer_to_x_ptr.get()
    assert x_ptr.location == bob
    assert counts(bob, alice) == (1, 0)
    assert x_ptr.get().tolist() == [1, 2, 3, 4]
    assert counts(bob, alice) == (0, 0)


def test_arithmetic_through_a_chain(workers):
    bob, alice = workers("bob", "alice")
    p2p2x = sy.tensor([1, 2, 3, 4, 5]).send(bob).send(alice)
    y = p2p2x + p2p2x
    assert counts(bob, alice) == (2, 2)
    inner = y.get()
    assert isinstance(inner, sy.PointerTensor)
    assert inner.get().tolist() == [2, 4, 6, 8, 10]
    assert counts(bob, alice) == (1, 1)
    assert p2p2x.get().get().tolist() == [1, 2, 3, 4, 5]
    assert counts(bob, alice) == (0, 0)


def test_move(workers):
    bob, alice = workers("bob", "alice")
    x = sy.tensor([1, 2, 3, 4, 5]).send(bob)
    assert counts(bob, alice) == (1, 0)
    x = x.move(alice)
    assert counts(bob, alice) == (0, 1)
    assert x.location == alice
    assert x.get().tolist() == [1, 2, 3, 4, 5]
    assert counts(bob, alice) == (0, 0)


def test_dropping_a_chain_deletes_along_it(workers):
    bob, alice = workers("bob", "alice")
    chain = sy.tensor([1.0]).send(bob).send(alice)
    assert counts(bob, alice) == (1, 1)
    del chain
    assert counts(bob, alice) == (0, 0)
