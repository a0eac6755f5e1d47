"""The capture tests' shared sample media (built once per session), for any way of running them."""

from tests.capture.fixtures import sample_dir, samples  # noqa: F401 - fixtures pytest finds here
