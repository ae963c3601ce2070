"""Network workers: worker servers in this process over TLS on loopback (certificates from
a development CA), reached by address with ``connect``/``NetworkWorker``; the tutorials'
operations over them, the refusals (a wrong certificate, a wrong name, nobody
listening), and a worker that stops."""

import numpy as np
import pytest

import syft_rs as sy


@pytest.fixture
def ca():
    return sy.DevCa()


@pytest.fixture
def servers(ca):
    started = {name: sy.WorkerServer(name, ca.identity(name)) for name in ("bob", "alice", "james")}
    yield started
    for s in started.values():
        s.shutdown()


def test_tutorial_operations_over_tls(ca, servers, hub):
    me = ca.identity("me", client=True)
    bob, alice, james = sy.connect({n: s.address for n, s in servers.items()}, identity=me, hub=hub)
    assert isinstance(bob, sy.NetworkWorker) and bob.address == servers["bob"].address
    assert repr(alice) == "<NetworkWorker id:alice>"

    # Part 1: send, remote ops, get
    x = sy.tensor([1.0, 2.0, 3.0]).send(bob)
    assert x.location == bob
    assert (x + x).get().tolist() == [2.0, 4.0, 6.0]
    # Part 3: a chain bob <- alice, and move
    p2p2x = sy.tensor([1, 2, 3]).send(bob).send(alice)
    assert (p2p2x + p2p2x).get().get().tolist() == [2, 4, 6]
    y = sy.tensor([4.0]).send(bob).move(alice)
    assert y.location == alice and y.get().tolist() == [4.0]
    # Parts 11/12: shared values among the network workers
    a = sy.tensor([1.5, -2.0]).fix_precision().share(bob, alice, crypto_provider=james)
    b = sy.tensor([0.5, 4.0]).fix_precision().share(bob, alice, crypto_provider=james)
    np.testing.assert_allclose((a * b).relu().get().float_precision().numpy(), [0.75, 0.0])
    del x, p2p2x, a, b
    assert bob.object_count() == 0


def test_one_network_worker_by_address(ca, servers, hub):
    bob = sy.NetworkWorker(id="bob", address=servers["bob"].address, identity=ca.identity("me", client=True), hub=hub)
    assert sy.tensor([7]).send(bob).get().tolist() == [7]


def test_refusals(ca, servers, hub):
    stranger = sy.DevCa().identity("me", client=True)
    with pytest.raises(sy.NetError):
        sy.NetworkWorker(id="bob", address=servers["bob"].address, identity=stranger, hub=hub)
    me = ca.identity("me", client=True)
    # alice's server is not bob.
    with pytest.raises(sy.SyftError, match="bob"):
        sy.NetworkWorker(id="bob", address=servers["alice"].address, identity=me, hub=hub)
    # A worker certificate must name the worker it serves.
    with pytest.raises(sy.NetError, match="eve"):
        sy.WorkerServer("eve", ca.identity("mallory"))
    # Nobody listens there any more.
    gone = sy.WorkerServer("carol", ca.identity("carol"))
    address = gone.address
    gone.shutdown()
    with pytest.raises(sy.SyftError):
        sy.NetworkWorker(id="carol", address=address, identity=me, hub=hub)


def test_a_network_worker_that_stops(ca, servers, hub):
    me = ca.identity("me", client=True)
    bob = sy.NetworkWorker(id="bob", address=servers["bob"].address, identity=me, hub=hub)
    x = sy.tensor([1.0]).send(bob)
    servers["bob"].shutdown()
    with pytest.raises(sy.SyftError, match="bob"):
        x.get()


def test_identities_from_files(tmp_path, hub):
    paths = sy.gen_certs(tmp_path, ["bob"], ["me"])
    server = sy.WorkerServer("bob", sy.TlsIdentity.from_files(*paths["bob"]))
    try:
        bob = sy.NetworkWorker(
            id="bob", address=server.address, identity=sy.TlsIdentity.from_files(*paths["me"]), hub=hub
        )
        assert (sy.tensor([2.0]).send(bob) * 3.0).get().tolist() == [6.0]
    finally:
        server.shutdown()
    with pytest.raises(sy.NetError):
        sy.TlsIdentity.from_files(tmp_path / "nope.pem", tmp_path / "nope.pem", tmp_path / "nope.key")
