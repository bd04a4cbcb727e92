"""engine.allocator: the settings a job's child process starts with, and the user's own settings winning."""
from __future__ import annotations

from inception_studio.engine.allocator import CHILD_ENV, child_env


def test_a_child_keeps_all_it_frees_unless_the_user_chose_otherwise():
    env = child_env({"PATH": "/bin"})
    assert env["PATH"] == "/bin" and env["MALLOC_MMAP_MAX_"] == "0"  # every block from the heap
    assert int(env["MALLOC_TRIM_THRESHOLD_"]) >= 1 << 40 and int(env["MALLOC_MMAP_THRESHOLD_"]) == 32 << 20
    own = child_env({"MALLOC_MMAP_MAX_": "65536"})
    assert own["MALLOC_MMAP_MAX_"] == "65536" and own["MALLOC_TRIM_THRESHOLD_"] == CHILD_ENV["MALLOC_TRIM_THRESHOLD_"]
    tunables = {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"}
    assert child_env(tunables) == tunables  # glibc's other way of saying it: all of ours stay out
