"""Fixtures: each test gets workers in a hub of its own, so names never collide between
tests (a worker name is unique within a hub)."""

import pathlib

import pytest

import syft_rs as sy

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def hub():
    return sy.Hub()


@pytest.fixture
def workers(hub):
    """A factory: ``workers("bob", "alice")`` returns in-process workers in this test's hub."""

    def make(*names):
        made = [sy.VirtualWorker(id=n, hub=hub) for n in names]
        return made[0] if len(made) == 1 else made

    return make


@pytest.fixture
def mnist_dir():
    return REPO / "data" / "mnist"
