import socket
import subprocess
import sys
import threading
import time

from voronka.core.management.commands.serve import wait_until_answering


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_banner_waits_until_the_server_answers_on_its_port():
    port = free_port()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def listen_later():
        time.sleep(0.6)
        server.bind(("127.0.0.1", port))
        server.listen()

    started = time.monotonic()
    threading.Thread(target=listen_later).start()
    try:
        assert wait_until_answering("0.0.0.0", port, None, limit=10)
        assert time.monotonic() - started >= 0.6
    finally:
        server.close()


def test_the_banner_is_not_printed_when_the_server_exits_before_answering():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert not wait_until_answering("127.0.0.1", free_port(), process, limit=10)
