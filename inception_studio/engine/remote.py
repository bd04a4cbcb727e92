"""Engine work in a child process: the protocol, the child's main loop and the parent's handle on it. No Qt.

A long job (training, ONNX export) competes with the GUI for the GIL when it runs on a thread of the GUI
process; in a child process it cannot, and a crash or an out-of-memory kill of the child leaves the window
alone. The child is a fresh interpreter (``python -m inception_studio.engine.remote FD``), never a fork of
the GUI process, and imports nothing but the engine: never Qt.

Protocol, over one socket pair, each message a pickled tuple:

parent -> child
    ``("job", "package.module:function", args, kwargs, live)``  run this (once). ``live`` maps keyword
        names to initial values; the function gets each as a zero-argument callable returning the
        latest value (``feature_target``, say), plus ``should_stop`` and ``should_pause`` callables
        (``should_pause()`` is the live value ``"pause"``, which is not passed itself).
    ``("set", name, value)``  a live value changed (``"pause"`` -> ``should_pause()``).
    ``("stop",)``  ``should_stop()`` turns True; the job ends its own way (a training run saves).
    ``("cancel",)``  stop, and close a generator at its next yield.
child -> parent
    ``("ready", pid)``  imports done, waiting for a job (a standby child sends it before the job).
    ``("event", obj)``  each item a generator yields.
    ``("done", value)`` the function's return value (a generator's ``return``); then the child exits 0.
    ``("error", line, details)``  one line for the user and the traceback; then the child exits 1.

When the parent's end closes (the GUI process died), the child stops its job the graceful way and exits.
A child that exits without ``done`` or ``error`` crashed or was killed: :func:`exit_message` says so in
one line. Objects that cross must pickle; a job whose result holds a model sends its weights instead
(``engine.training.remote``). The child is background work for the OS scheduler
(:func:`lower_process_priority`), so the GUI wins the cores.
"""
from __future__ import annotations

import gc
import importlib
import inspect
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..errors import one_line
from .allocator import child_env

NICE = 5  # background work's niceness (the GUI's worker threads; the child where SCHED_IDLE is not): the GUI wins
_WARM = ("inception_studio.engine.train",)  # what a standby child imports before it is given a job
# The child's own process group, in the app's session: Stop/kill reach its data-loader processes too, and a
# Ctrl+C in the terminal that started the app reaches only the app, which ends the child the graceful way.
# Not a session of its own: Linux shares the CPU fairly between sessions (autogroups) before it looks at
# priorities, so a child in its own session had as much of a contended core as the whole window, whatever its
# priority. (Python 3.10 has no process_group: there it still gets a session.)
_OWN_GROUP = {"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True}


# ---------------------------------------------------------------------------------------------- the child
class _Control:
    """What the parent has asked so far (updated by the child's reader thread, read by the job)."""

    def __init__(self, live: dict[str, Any]):
        self.values = dict(live)
        self.stop = threading.Event()
        self.cancel = threading.Event()

    def reader(self, conn: Connection) -> None:
        """Apply the parent's messages until its end closes (then stop the job: the GUI is gone)."""
        try:
            while True:
                msg = conn.recv()
                if msg[0] == "set":
                    self.values[msg[1]] = msg[2]
                elif msg[0] == "stop":
                    self.stop.set()
                elif msg[0] == "cancel":
                    self.stop.set()
                    self.cancel.set()
        except (EOFError, OSError):
            self.stop.set()

    def getter(self, name: str):
        """A zero-argument callable returning the latest value of ``name``."""
        return lambda: self.values.get(name)


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _run(conn: Connection, target: str, args: tuple, kwargs: dict, live: dict) -> int:
    control = _Control(live)
    threading.Thread(target=control.reader, args=(conn,), name="control", daemon=True).start()
    try:
        fn = _resolve(target)
        # What the child holds now (torch and the job's modules and arguments: ~400,000 objects) lives as long
        # as the process: out of the collector's reach. A full collection, which falls due every few seconds
        # of a run, then scans only what the job made since; otherwise it took 150-165 ms of the child's core,
        # in a step or in Stop's checkpoint (StoppedEvent 200-290 ms after the click instead of 50-90 ms).
        gc.freeze()
        kw = dict(kwargs)
        kw.update({k: control.getter(k) for k in live if k != "pause"})  # "pause" is should_pause()
        params = inspect.signature(fn).parameters
        if "should_stop" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            kw.setdefault("should_stop", control.stop.is_set)
            kw.setdefault("should_pause", lambda: bool(control.values.get("pause")) and not control.stop.is_set())
        out = fn(*args, **kw)
        if inspect.isgenerator(out):
            out = _drain(conn, out, control)
        conn.send(("done", out))
        return 0
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line plus its traceback
        from ..logs import log_unexpected, traceback_text
        from ..errors import StudioError

        line = one_line(exc) if isinstance(exc, StudioError) else log_unexpected(exc, target)
        try:
            conn.send(("error", line, traceback_text(exc)))
        except OSError:
            pass
        return 1


def _drain(conn: Connection, gen, control: _Control) -> Any:
    try:
        while True:
            if control.cancel.is_set():
                gen.close()
                return None
            conn.send(("event", next(gen)))
    except StopIteration as stop:
        return stop.value


def lower_process_priority(pid: int) -> None:
    """Make process ``pid`` background work for the OS scheduler; the threads and processes
    it starts later inherit it. On Linux that is SCHED_IDLE: it runs on a core no other task of the app wants,
    and the GUI thread gets a core back the moment it wakes (at ``nice`` 5 it still waited up to 40 ms for one
    while a run started). Elsewhere, ``nice`` NICE."""
    try:
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, pid, max(NICE, os.getpriority(os.PRIO_PROCESS, pid)))
    except (AttributeError, OSError):
        pass


def child_main(argv: list[str]) -> int:
    """The child's entry point: ``FD [WARM_MODULE ...]``; imports, says ready, runs one job, exits."""
    conn = Connection(int(argv[0]))  # (its priority was lowered by the parent as it started: ChildProcess)
    if os.environ.get("INCEPTION_STUDIO_CHILD_LOG"):
        from .. import logs
        logs.setup()
    gc.disable()  # importing torch made five full collections of a growing heap (~300 ms of CPU); see _run
    for module in argv[1:]:
        importlib.import_module(module)
    gc.freeze()
    gc.enable()
    try:
        conn.send(("ready", os.getpid()))
        msg = conn.recv()
    except (EOFError, OSError):
        return 0  # a standby nobody needed
    if msg[0] != "job":
        return 0
    code = _run(conn, *msg[1:])
    conn.close()
    # Out at once: the interpreter's own shutdown with torch loaded takes over a second of CPU time, which
    # would compete with the GUI (and with the next run) for nothing. Logs are flushed first.
    import logging

    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)


# ---------------------------------------------------------------------------------------------- the parent
def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def exit_message(what: str, returncode: int | None, stderr_tail: str = "") -> str:
    """One line for a child that ended without an answer: killed (out of memory?), crashed, or exited."""
    if returncode is not None and returncode < 0:
        sig = -returncode
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        why = {signal.SIGKILL: "killed (SIGKILL: out of memory, or ended from outside)",
               signal.SIGSEGV: "crashed (segmentation fault)", signal.SIGABRT: "aborted",
               signal.SIGTERM: "terminated (SIGTERM)", signal.SIGBUS: "crashed (bus error)"}.get(sig, f"killed by {name}")
        text = f"the {what} process was {why}"
    else:
        text = f"the {what} process ended unexpectedly (exit status {returncode})"
    tail = stderr_tail.strip().splitlines()[-1].strip() if stderr_tail.strip() else ""
    return f"{text}: {tail[:200]}" if tail else text


class ChildProcess:
    """The parent's handle on one child: spawn it, give it a job, talk to it, reap it. Not thread-safe.

    Messages are read without ever blocking: the bytes waiting on the socket are taken and only whole
    messages are unpickled (a child suspended halfway through writing one leaves the rest for later)."""

    def __init__(self, warm: tuple[str, ...] = _WARM):
        parent_sock, child_sock = socket.socketpair()
        self._stderr = tempfile.TemporaryFile(prefix="inception-child-")
        self.env = dict(os.environ)  # the settings it started under
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH", "")) if p)
        env = child_env(env)  # its allocator keeps what a step frees (engine.allocator)
        from ..logs import current_file
        if current_file() is not None:
            env["INCEPTION_STUDIO_CHILD_LOG"] = "1"
        fd = child_sock.fileno()
        self.proc = subprocess.Popen([sys.executable, "-m", "inception_studio.engine.remote", str(fd), *warm],
                                     pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._stderr, env=env, close_fds=True, **_OWN_GROUP)
        lower_process_priority(self.proc.pid)  # from its interpreter's start-up on; its threads inherit it
        child_sock.close()
        parent_sock.setblocking(True)
        self.sock = parent_sock
        self._buf = bytearray()
        self.started = False
        self.ready = False
        self.eof = False
        self.suspended = False
        self.outcome: tuple | None = None  # ("done", value) | ("error", line, details)

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.proc.pid

    def fileno(self) -> int:
        """The socket to watch for messages (readable when one arrives or the child is gone)."""
        return self.sock.fileno()

    def start(self, target: str, args: tuple = (), kwargs: dict | None = None, live: dict | None = None) -> None:
        """Give the child its job (once)."""
        if self.started:
            raise RuntimeError("ChildProcess.start() called twice")
        self.started = True
        self._send(("job", target, tuple(args), dict(kwargs or {}), dict(live or {})))

    def set(self, name: str, value: Any) -> None:
        """Change a live value (``"pause"``, ``"feature_target"``, ...)."""
        self._send(("set", name, value))

    def stop(self) -> None:
        """Ask the job to stop its own way (``should_stop()`` turns True); a suspended child is resumed."""
        self._send(("stop",))
        self.resume()

    def cancel(self) -> None:
        """Stop, and close a generator job at its next yield."""
        self._send(("cancel",))
        self.resume()

    def _send(self, msg: tuple) -> None:
        data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        try:  # the framing multiprocessing.connection reads on the other side
            self.sock.sendall(struct.pack("!i", len(data)) + data)
        except OSError:
            pass  # the child is gone; its exit is reported by the caller's exit check

    def suspend(self) -> None:
        """Freeze the child and its own children at once (SIGSTOP to its process group)."""
        if self.alive() and not self.suspended:
            self._signal(signal.SIGSTOP)
            self.suspended = True

    def resume(self) -> None:
        """Let a suspended child go on (SIGCONT)."""
        if self.suspended:
            self.suspended = False
            self._signal(signal.SIGCONT)

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def messages(self, budget_s: float = 0.008) -> list[tuple]:
        """The whole messages waiting now (at most ``budget_s`` seconds of reading); stops after the answer.

        ``eof`` turns True when the socket closed without an answer: the child is gone (see :meth:`exit_line`)."""
        out: list[tuple] = []
        t0 = time.perf_counter()
        while self.outcome is None and time.perf_counter() - t0 < budget_s:
            msg = self._next()
            if msg is None:
                break
            if msg[0] == "ready":
                self.ready = True
                continue
            if msg[0] in ("done", "error"):
                self.outcome = msg
            out.append(msg)
        return out

    def _next(self) -> tuple | None:
        """One whole message from the buffer (reading what the socket has, without waiting), or None."""
        while True:
            msg = self._frame()
            if msg is not None or self.eof:
                return msg
            try:
                chunk = self.sock.recv(1 << 20, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return None
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                return None
            self._buf += chunk

    def _frame(self) -> tuple | None:
        if len(self._buf) < 4:
            return None
        (size,), head = struct.unpack("!i", self._buf[:4]), 4
        if size == -1:  # a message over 2 GiB: an 8-byte size follows
            if len(self._buf) < 12:
                return None
            (size,), head = struct.unpack("!Q", self._buf[4:12]), 12
        if len(self._buf) < head + size:
            return None
        data = bytes(self._buf[head:head + size])
        del self._buf[:head + size]
        return pickle.loads(data)

    def pending(self) -> bool:
        """True when bytes are waiting to be read (or a whole message is buffered)."""
        if self._frame_ready():
            return True
        r, _, _ = select.select([self.sock], [], [], 0)
        return bool(r)

    def _frame_ready(self) -> bool:
        if len(self._buf) < 4:
            return False
        (size,) = struct.unpack("!i", self._buf[:4])
        return size != -1 and len(self._buf) >= 4 + size

    def exit_line(self, what: str) -> str:
        """One line for a child that exited without an answer (its status, and Python's last word if any)."""
        code = self.proc.poll()
        tail = ""
        if code is not None and code > 0:
            self._stderr.seek(0)
            tail = self._stderr.read()[-2000:].decode("utf-8", "replace")
        return exit_message(what, code, tail)

    def alive(self) -> bool:
        """True until the child process has exited."""
        return self.proc.poll() is None

    def wait(self, timeout_s: float) -> int | None:
        """Reap the child (waiting up to ``timeout_s``); its exit status, None if it still runs."""
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """End the child and its own children now (SIGKILL to its process group)."""
        self._signal(signal.SIGKILL)
        self.wait(5.0)

    def close(self) -> None:
        """Release the socket and the stderr file (after the child has exited or been killed)."""
        if self.alive():
            self.kill()
        for f in (self.sock, self._stderr):
            try:
                f.close()
            except OSError:
                pass


if __name__ == "__main__":
    raise SystemExit(child_main(sys.argv[1:]))
