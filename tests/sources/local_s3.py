"""A real S3 endpoint on loopback (moto's server, in its own process) and a byte-counting proxy.

The server checks signatures: it starts with just enough unauthenticated calls to create one
IAM user with an access key, and from then on refuses unknown keys and wrong secrets, as S3
does. The proxy forwards TCP between a client and the server and counts the bytes the server
sends back, which is what a reader fetched: headers, listings and object bytes alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import boto3

# Calls left unauthenticated for the setup in ``LocalS3.start``: create_user, put_user_policy,
# create_access_key.
_SETUP_CALLS = 3
_ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LocalS3:
    """A moto S3 server process on ``127.0.0.1:port`` with one user's key pair."""

    process: subprocess.Popen
    port: int
    access_key: str
    secret_key: str

    @classmethod
    def start(cls, *, checks_signatures: bool = True) -> LocalS3:
        port = free_port()
        env = dict(os.environ)
        if checks_signatures:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(_SETUP_CALLS)
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError("the local S3 server did not start") from None
                time.sleep(0.1)
        iam = boto3.client(
            "iam",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="setup",
            aws_secret_access_key="setup",
        )
        iam.create_user(UserName="reader")
        iam.put_user_policy(
            UserName="reader", PolicyName="all", PolicyDocument=json.dumps(_ALLOW_ALL)
        )
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        return cls(process, port, key["AccessKeyId"], key["SecretAccessKey"])

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class CountingProxy:
    """TCP forwarder to ``127.0.0.1:target``, counting the bytes the target sends back."""

    def __init__(self, target: int) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._received = 0
        self.requests: list[bytes] = []  # the first bytes each connection sent (headers)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def bytes_received(self) -> int:
        with self._lock:
            return self._received

    def reset(self) -> None:
        with self._lock:
            self._received = 0

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                with self._lock:
                    if counted:
                        self._received += len(chunk)
                    else:
                        self.requests.append(chunk[:4096])
                sink.sendall(chunk)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
