"""Fault injection for multi-node tests: TCP proxies that cut, blackhole and delay links.

    proxy = FaultProxy("127.0.0.1", node_port).start()     # then dial 127.0.0.1:proxy.port
    proxy.cut()          # drop every current connection; new ones are accepted and swallowed
    proxy.heal()         # forward again (blackholed connections are closed so clients redial)
    proxy.delay(0.2)     # deliver every chunk 0.2 s late, in order
    proxy.stop()

    with Mesh(4, node_ports) as mesh:        # one proxy per directed link i -> j
        node i dials node j at 127.0.0.1:mesh.peer_port(i, j)
        mesh.partition([{0, 1}, {2, 3}]); mesh.isolate(3); mesh.heal_all()

The proxies run on an asyncio loop in a background thread, so the same object works from a
plain synchronous test that runs nodes as subprocesses and from an async test whose loop runs
the nodes in-process (each call blocks the caller only while the proxy thread does the work).
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, Iterable

__all__ = ["ProxyLoop", "FaultProxy", "Mesh"]

CHUNK = 64 * 1024
PIPE_CHUNKS = 256            # chunks in flight per direction while delaying
CALL_TIMEOUT = 10.0


class ProxyLoop:
    """An asyncio event loop on a daemon thread; several proxies may share one."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faultproxy", daemon=True)
        self._stopped = False

    def start(self) -> ProxyLoop:
        if not self._thread.is_alive() and not self._stopped:
            self._thread.start()
        return self

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = CALL_TIMEOUT) -> Any:
        """Run ``coro`` on the proxy loop and return its result (from any other thread)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("ProxyLoop.call from the proxy thread itself would deadlock")
        if not self._thread.is_alive():
            coro.close()
            raise RuntimeError("the proxy loop is not running: call start() first")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self.call(self._cancel_all())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CALL_TIMEOUT)
        self._loop.close()

    @staticmethod
    async def _cancel_all() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class _Link:
    """One forwarded connection: the client's socket and ours to the target."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter):
        self.client, self.upstream = client, upstream

    def abort(self) -> None:
        self.client.transport.abort()
        self.upstream.transport.abort()


class FaultProxy:
    """A TCP proxy in front of ``target_host:target_port`` whose link can be cut, healed and slowed."""

    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1", port: int = 0,
                 loop: ProxyLoop | None = None):
        self.target = (target_host, target_port)
        self._bind = (host, port)
        self._own_loop = loop is None
        self._loop = loop if loop is not None else ProxyLoop()
        self._server: asyncio.base_events.Server | None = None
        self._port: int | None = None
        self._mode: str | None = None            # None (forwarding), "blackhole" or "reset"
        self._delay = 0.0
        self._links: set[_Link] = set()
        self._held: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task] = set()
        self.accepted = 0                        # connections accepted in total
        self.forwarded = 0                       # of which forwarded to the target
        self.swallowed = 0                       # of which blackholed or reset while cut

    # -- synchronous API ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FaultProxy is not started: call start() first")
        return self._port

    @property
    def is_cut(self) -> bool:
        return self._mode is not None

    @property
    def connections(self) -> int:
        """Connections being forwarded right now."""
        return len(self._links)

    def start(self) -> FaultProxy:
        self._loop.start()
        self._loop.call(self._start())
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call(self._stop())
        if self._own_loop:
            self._loop.stop()

    def cut(self, mode: str = "blackhole") -> None:
        """Drop every current connection; new ones are swallowed ("blackhole": accepted, never
        answered, like a silent network) or closed at once ("reset")."""
        if mode not in ("blackhole", "reset"):
            raise ValueError(f"cut mode must be 'blackhole' or 'reset', got {mode!r}")
        self._loop.call(self._cut(mode))

    def heal(self) -> None:
        """Forward new connections again; close blackholed ones so their clients redial."""
        self._loop.call(self._heal())

    def delay(self, seconds: float) -> None:
        """Deliver data ``seconds`` late from now on (order is kept); 0 for none."""
        if seconds < 0:
            raise ValueError("delay must be >= 0 seconds")
        self._delay = float(seconds)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- on the proxy loop --------------------------------------------------------------------

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, *self._bind)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        self._drop_all()
        # Let the connection handlers see their sockets die and return: cancelling them would
        # make asyncio's stream machinery log the cancellation as an error.
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=CALL_TIMEOUT / 2)
        await self._server.wait_closed()
        self._server = None

    async def _cut(self, mode: str) -> None:
        self._mode = mode
        for link in list(self._links):
            link.abort()

    async def _heal(self) -> None:
        self._mode = None
        for writer in list(self._held):
            writer.transport.abort()

    def _drop_all(self) -> None:
        for link in list(self._links):
            link.abort()
        for writer in list(self._held):
            writer.transport.abort()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve_client(reader, writer)
        finally:
            self._handlers.discard(task)

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self._mode is not None:
            self.swallowed += 1
            await self._swallow(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        if self._mode is not None:          # cut while we were connecting
            up_writer.transport.abort()
            self.swallowed += 1
            await self._swallow(reader, writer)
            return
        self.forwarded += 1
        link = _Link(writer, up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._links.discard(link)
            link.abort()

    async def _swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._mode == "reset":
            writer.transport.abort()
            return
        self._held.add(writer)
        try:
            while await reader.read(CHUNK):
                pass
        except OSError:
            pass
        finally:
            self._held.discard(writer)
            writer.transport.abort()

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        """Copy one direction, each chunk held until its delivery time; EOF is passed on."""
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(PIPE_CHUNKS)

        async def read() -> None:
            try:
                while True:
                    data = await src.read(CHUNK)
                    await chunks.put((loop.time() + self._delay, data))
                    if not data:
                        return
            except OSError:
                await chunks.put((loop.time(), b""))

        async def write() -> None:
            while True:
                due, data = await chunks.get()
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                if not data:
                    if dst.can_write_eof() and not dst.transport.is_closing():
                        dst.write_eof()
                    return
                if dst.transport.is_closing():
                    return
                dst.write(data)
                await dst.drain()

        reader = loop.create_task(read())
        try:
            await write()
        except OSError:
            dst.transport.abort()
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


class Mesh:
    """One FaultProxy per directed link of an n-node network: node i dials node j via proxy (i, j)."""

    def __init__(self, n: int, node_ports: list[int], host: str = "127.0.0.1"):
        if n < 2 or len(node_ports) != n:
            raise ValueError(f"Mesh needs n >= 2 and one port per node, got n={n} and {len(node_ports)} ports")
        self.n = n
        self._loop = ProxyLoop()
        self._proxies = {(i, j): FaultProxy(host, node_ports[j], loop=self._loop)
                         for i in range(n) for j in range(n) if i != j}

    def start(self) -> Mesh:
        self._loop.start()
        for proxy in self._proxies.values():
            proxy.start()
        return self

    def stop(self) -> None:
        for proxy in self._proxies.values():
            proxy.stop()
        self._loop.stop()

    def __enter__(self) -> Mesh:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def proxy(self, i: int, j: int) -> FaultProxy:
        """The proxy node i dials node j through."""
        self._check(i, j)
        return self._proxies[(i, j)]

    def peer_port(self, i: int, j: int) -> int:
        """The port node i must dial to reach node j."""
        return self.proxy(i, j).port

    def partition(self, groups: Iterable[set[int]]) -> None:
        """Links inside a group work, links between groups are cut; unlisted nodes are isolated."""
        group_of: dict[int, int] = {}
        for index, group in enumerate(groups):
            for node in group:
                self._check(node)
                if node in group_of:
                    raise ValueError(f"node {node} is in two partition groups")
                group_of[node] = index
        for (i, j), proxy in self._proxies.items():
            joined = i in group_of and group_of.get(i) == group_of.get(j)
            if joined and proxy.is_cut:
                proxy.heal()
            elif not joined and not proxy.is_cut:
                proxy.cut()

    def isolate(self, node: int) -> None:
        """Cut every link to and from ``node``; other links stay as they are."""
        self._check(node)
        for (i, j), proxy in self._proxies.items():
            if node in (i, j) and not proxy.is_cut:
                proxy.cut()

    def heal_all(self) -> None:
        for proxy in self._proxies.values():
            if proxy.is_cut:
                proxy.heal()

    def delay_all(self, seconds: float) -> None:
        for proxy in self._proxies.values():
            proxy.delay(seconds)

    def _check(self, *nodes: int) -> None:
        for node in nodes:
            if not isinstance(node, int) or not 0 <= node < self.n:
                raise ValueError(f"node index {node!r} is not in 0..{self.n - 1}")
        if len(nodes) == 2 and nodes[0] == nodes[1]:
            raise ValueError(f"there is no link from node {nodes[0]} to itself")
