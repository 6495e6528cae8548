"""Fixtures for the whole suite: the simulated internet and Herald under test."""

from simnet.fixtures import *  # noqa: F403
from support.fixtures import *  # noqa: F403
