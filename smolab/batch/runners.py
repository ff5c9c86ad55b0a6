"""Where a batch's items run: in this process one after another, or on Ray, each worker an
actor that loads its model once and takes the next item when it is free.

A worker that dies (killed, out of memory, its machine gone) is restarted by Ray and its item
sent again; the item's run folder then resumes from its last finished step. Only when a
worker has died more often than ``retries`` does its item end as ``lost``; the rest go on."""

from __future__ import annotations

import os
import socket
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .errors import BatchError
from .outcome import Result
from .plan import Item
from .worker import Job, ModelFactory, Worker

Started = Callable[[Item], None]
Finished = Callable[[Result], None]
Tick = Callable[[], None]


class Runner(Protocol):
    workers: int

    def run(self, items: list[Item], started: Started, finished: Finished, tick: Tick) -> None: ...


@dataclass
class InProcess:
    """One worker, this process: no Ray needed (and a debugger works)."""

    job: Job
    models: ModelFactory
    workers: int = 1

    def run(self, items: list[Item], started: Started, finished: Finished, tick: Tick) -> None:
        worker = Worker(self.job, self.models)
        for item in items:
            started(item)
            tick()
            finished(worker.run(item))


def cores() -> int:
    return len(os.sched_getaffinity(0))


@dataclass
class OnRay:
    """``workers`` actors on a local Ray instance (started here and stopped at the end), or on
    the cluster at ``address`` (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``)."""

    job: Job
    models: ModelFactory
    workers: int = 2
    address: str | None = None
    threads: int = 1
    """CPU threads each worker's model uses: the CPUs each actor asks Ray for."""
    retries: int = 2
    poll: float = 0.5

    def _connect(self) -> bool:
        """Connect (or start a local instance); True when this call started Ray."""
        try:
            import ray
        except ImportError:
            raise BatchError(
                "Ray is not installed: pip install 'smolab[batch]', or run the batch with --in-process"
            ) from None
        if ray.is_initialized():
            return False
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "configure_logging": False,
        }
        if self.address is None:
            kwargs["num_cpus"] = max(cores(), self.workers * self.threads)
            # Workers on this machine import what this process can: a model factory or tools
            # module of the user's own, not only what is installed.
            paths = [str(Path(p or os.getcwd()).resolve()) for p in sys.path]
            kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}}
        if self.address not in (None, "auto"):
            _probe(self.address)
        try:
            ray.init(address=self.address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError, SystemExit) as err:
            where = self.address or "a local instance"
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise BatchError(
                f"cannot reach Ray at {where} ({first}); check the address, or use --in-process"
            ) from None
        return True

    def run(self, items: list[Item], started: Started, finished: Finished, tick: Tick) -> None:
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        started_here = self._connect()
        actor_class: Any = ray.remote(
            num_cpus=self.threads, max_restarts=self.retries, max_task_retries=self.retries
        )(Worker)
        actors = [actor_class.remote(self.job, self.models) for _ in range(min(self.workers, len(items)))]
        idle = list(actors)
        queue = deque(items)
        running: dict[Any, tuple[Any, Item]] = {}
        try:
            while queue or running:
                while idle and queue:
                    actor, item = idle.pop(0), queue.popleft()
                    running[actor.run.remote(item)] = (actor, item)
                    started(item)
                ready, _ = ray.wait(list(running), num_returns=1, timeout=self.poll)
                tick()
                for ref in ready:
                    actor, item = running.pop(ref)
                    try:
                        result: Result = ray.get(ref)
                        idle.append(actor)
                    except RayActorError as err:  # died more often than it may restart: gone
                        result = _lost(item, f"its worker died {self.retries + 1} times ({_first(err)})")
                    except RayTaskError as err:
                        result = _lost(item, _first(err))
                        idle.append(actor)
                    finished(result)
                if queue and not idle and not running:
                    for item in queue:
                        finished(_lost(item, "every worker died before it ran"))
                    queue.clear()
        finally:
            for actor in actors:
                ray.kill(actor)
            if started_here:
                ray.shutdown()


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds on a cluster that does not answer (Ray itself keeps trying for minutes)."""
    where = address.removeprefix("ray://")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise BatchError(f"--ray {address}: give auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as err:
        raise BatchError(
            f"cannot reach Ray at {address} ({err.strerror or err}); is the cluster up? "
            "(`ray start --head` starts one), or use --in-process"
        ) from None


def _first(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


def _lost(item: Item, reason: str) -> Result:
    return Result(key=item.key, kind=item.kind, what=item.what, status="lost", reason=reason)
