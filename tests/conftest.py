from simnet.fixtures import *  # noqa: F403
