"""Private PostgreSQL (and streaming replicas of it), Redis and HAProxy servers for tests that
need servers of their own: each on a free port, in a temporary folder, stopped and started at
will without disturbing the shared local servers."""

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
