"""Private PostgreSQL (and streaming replicas of it), Redis and HAProxy servers for tests that
need servers of their own: each on a free port, in a temporary folder, stopped and started at
will without disturbing the shared local servers."""

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, *, up: bool, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} did not go {'up' if up else 'down'} in {timeout} s")


class PrivatePostgres:
    """`initdb` into a temporary folder and `pg_ctl` it (as the postgres user when root)."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not binaries:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = Path(binaries[-1])
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="iid-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.folder, "postgres", "postgres")

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    def init(self, *, replication: bool = False) -> "PrivatePostgres":
        """A new cluster; `replication`: one that streaming replicas can copy and follow."""
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        )
        if replication:  # PostgreSQL's defaults allow it; said here, not relied upon
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write("wal_level = replica\nmax_wal_senders = 4\n")
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.write("host replication postgres 127.0.0.1/32 trust\n")
        return self

    def replica_of(self, primary: "PrivatePostgres") -> "PrivatePostgres":
        """This server's data as a copy of the running `primary` that, once started, follows
        it as a hot standby: `pg_basebackup -R` writes standby.signal and primary_conninfo."""
        self._run(
            str(self.bin / "pg_basebackup"),
            "--host=127.0.0.1",
            f"--port={primary.port}",
            "--username=postgres",
            f"--pgdata={self.data}",
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "start",
        )
        _wait_for_port(self.port, up=True)

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        _wait_for_port(self.port, up=False)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, up=True)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        _wait_for_port(self.port, up=False)


def haproxy_binary() -> str | None:
    """Debian's HAProxy (`make test` installs it where it can); /usr/sbin is not on every
    user's PATH."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


# What the balancer in front of the API needs, whichever it is (docs/operations.md, "Scale"):
# - take a process out when /readyz fails (two checks in a row, a quarter of a second apart
#   once one failed; a check may take 5 s on a loaded machine before it counts as failed);
# - retry a request the process never answered on the other one (`option redispatch 1`):
#   always when the connection failed (nothing was sent), and after a dropped connection
#   (`empty-response`: the process may have died mid-request, maybe after its commit) only
#   for methods that may be repeated: GET, HEAD, PUT, DELETE. A POST or PATCH that got no
#   answer is the client's to retry, with its Idempotency-Key.
# - keep idle connections to the API shorter than its keep-alive (IID_KEEP_ALIVE_SECONDS).
# `X-Served-By` tells the test which process answered.
CHECK_TIMEOUT_SECONDS = 5
FAST_CHECK_INTERVAL_SECONDS = 0.25
HAPROXY_CONFIG = """\
global
    maxconn 1000
    stats socket {folder}/admin.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout check {check_timeout}s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 30s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend api
    bind 127.0.0.1:{port}
    default_backend api

backend api
    balance roundrobin
    option httpchk GET /readyz
    default-server check inter 500ms fastinter {fast_interval_ms}ms fall 2 rise 1
    http-request disable-l7-retry unless METH_GET or METH_HEAD or METH_PUT or METH_DELETE
    http-response set-header X-Served-By %[srv_name]
{servers}
"""


class PrivateHaproxy:
    """HAProxy balancing HTTP over API processes on `ports` (named api1, api2, ...), with a
    configuration file written into a temporary folder."""

    def __init__(self, binary: str, ports: list[int]) -> None:
        self.binary = binary
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="iid-haproxy-"))
        self.config = self.folder / "haproxy.cfg"
        self.log = self.folder / "haproxy.log"
        servers = "\n".join(
            f"    server api{number} 127.0.0.1:{port}" for number, port in enumerate(ports, start=1)
        )
        self.config.write_text(
            HAPROXY_CONFIG.format(
                folder=self.folder,
                port=self.port,
                servers=servers,
                check_timeout=CHECK_TIMEOUT_SECONDS,
                fast_interval_ms=int(FAST_CHECK_INTERVAL_SECONDS * 1000),
            )
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # -c first: a configuration error is reported at once, not as a port that never opens
        subprocess.run([self.binary, "-c", "-q", "-f", str(self.config)], check=True)
        with self.log.open("wb") as log:  # -db: in the foreground, as the test's child
            self.process = subprocess.Popen(
                [self.binary, "-db", "-f", str(self.config)], stdout=log, stderr=log
            )
        _wait_for_port(self.port, up=True)

    def stats(self) -> list[dict[str, str]]:
        """`show stat` of the runtime API: one row per frontend, server and backend."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.folder / "admin.sock"))
            sock.sendall(b"show stat\n")
            received = b"".join(iter(lambda: sock.recv(65536), b""))
        header, *rows = received.decode().strip().splitlines()
        names = header.removeprefix("# ").split(",")
        return [dict(zip(names, row.split(","), strict=False)) for row in rows]

    async def server_status(self, server: str, awaited: str) -> str:
        """The status of `server` (e.g. "UP", "UP 1/2": one check of two failed, "DOWN") once
        it starts with `awaited`. HAProxy announces no state change, so its runtime API is
        asked once per fast check interval (a status cannot change faster) until the bound of
        two failing checks, each allowed `timeout check`, and then once more."""
        deadline = time.monotonic() + 2 * (CHECK_TIMEOUT_SECONDS + FAST_CHECK_INTERVAL_SECONDS)
        while True:
            status = next(row["status"] for row in self.stats() if row["svname"] == server)
            if status.startswith(awaited) or time.monotonic() > deadline:
                return status
            await asyncio.sleep(FAST_CHECK_INTERVAL_SECONDS)

    def destroy(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
