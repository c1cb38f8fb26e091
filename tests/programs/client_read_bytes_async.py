"""A Gio.SocketClient that reads its reply with read_bytes_async, against a stdlib socket server thread."""

import socket
import sys
import threading

from gi.repository import Gio, GLib

REPLY = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"".join(
    b"line %d of the reply\n" % i for i in range(1, 201)
)


def serve_once(listener, requests):
    """Accept one client, read its request up to the blank line, send REPLY and close."""
    conn, _ = listener.accept()
    with conn:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(1024)
            if not chunk:
                break
            request += chunk
        requests.append(request)
        conn.sendall(REPLY)
    listener.close()


class Fetcher:
    def __init__(self, loop, port):
        self.loop = loop
        self.received = bytearray()
        self.reads = 0
        self.largest = 0
        client = Gio.SocketClient()
        self.connection = client.connect_to_host("127.0.0.1", port, None)
        print("client: connected to", self.connection.get_remote_address().get_address().to_string())
        request = b"GET /hello HTTP/1.0\r\nHost: localhost\r\n\r\n"
        ok, written = self.connection.get_output_stream().write_all(request, None)
        print(f"client: write_all -> {ok}, sent {written} bytes")
        self.input = self.connection.get_input_stream()
        self.read_more()

    def read_more(self):
        self.input.read_bytes_async(1024, GLib.PRIORITY_DEFAULT, None, self.on_bytes)

    def on_bytes(self, stream, result):
        data = stream.read_bytes_finish(result)
        if data.get_size() == 0:
            print(f"client: end of stream after {len(self.received)} bytes")
            self.connection.close(None)
            self.loop.quit()
            return
        self.reads += 1
        self.largest = max(self.largest, data.get_size())
        self.received += data.get_data()
        self.read_more()


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    requests = []
    server = threading.Thread(target=serve_once, args=(listener, requests), daemon=True)
    server.start()

    loop = GLib.MainLoop()
    timed_out = []

    def watchdog():
        timed_out.append(True)
        print("watchdog: giving up", file=sys.stderr)
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.timeout_add_seconds(10, watchdog)
    fetcher = Fetcher(loop, port)
    loop.run()
    server.join(5)
    if timed_out:
        return 1

    print("server: request line", requests[0].split(b"\r\n")[0].decode())
    head, _, body = bytes(fetcher.received).partition(b"\r\n\r\n")
    print("client: status", head.split(b"\r\n")[0].decode())
    print("client: needed at least 5 reads:", fetcher.reads >= 5)
    print("client: no read above 1024 bytes:", fetcher.largest <= 1024)
    lines = body.decode().splitlines()
    print(f"client: body has {len(lines)} lines, first {lines[0]!r}, last {lines[-1]!r}")
    print("client: reply intact:", bytes(fetcher.received) == REPLY)
    return 0


if __name__ == "__main__":
    sys.exit(main())
