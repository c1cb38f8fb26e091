"""A line-based TCP echo server (Gio.SocketService) that talks to itself through a Gio.SocketClient.

The server answers every line with the line upper-cased; the client, driven by the same
GLib main loop, sends one line at a time and waits for its answer before sending the next.
"""

import sys

from gi.repository import Gio, GLib

LINES = ["hello", "line based echo", "goodbye"]


class EchoServer:
    def __init__(self, loop):
        self.loop = loop
        self.connections = []  # a GSocketConnection closes its socket when it is finalized: keep them
        self.service = Gio.SocketService()
        address = Gio.InetSocketAddress.new_from_string("127.0.0.1", 0)
        ok, effective = self.service.add_address(address, Gio.SocketType.STREAM, Gio.SocketProtocol.TCP, None)
        assert ok
        self.port = effective.get_port()
        self.service.connect("incoming", self.on_incoming)
        self.service.start()

    def on_incoming(self, service, connection, source_object):
        peer = connection.get_remote_address()
        print("server: connection from", peer.get_address().to_string())
        self.connections.append(connection)
        reader = Gio.DataInputStream.new(connection.get_input_stream())
        reader.read_line_async(GLib.PRIORITY_DEFAULT, None, self.on_line, connection)
        return True

    def on_line(self, reader, result, connection):
        line, length = reader.read_line_finish_utf8(result)
        if line is None:
            print("server: client closed the connection")
            connection.close(None)
            self.connections.remove(connection)
            self.service.stop()
            self.loop.quit()
            return
        print(f"server: got {line!r} ({length} bytes)")
        answer = (line.upper() + "\n").encode()
        ok, written = connection.get_output_stream().write_all(answer, None)
        assert ok
        assert written == len(answer)
        reader.read_line_async(GLib.PRIORITY_DEFAULT, None, self.on_line, connection)


class LineClient:
    def __init__(self, port):
        self.lines = list(LINES)
        self.client = Gio.SocketClient.new()
        self.client.connect_to_host_async("127.0.0.1", port, None, self.on_connected)

    def on_connected(self, client, result):
        self.connection = client.connect_to_host_finish(result)
        self.reader = Gio.DataInputStream.new(self.connection.get_input_stream())
        self.send_next()

    def send_next(self):
        if not self.lines:
            print("client: done, closing")
            self.connection.close(None)
            return
        line = self.lines.pop(0)
        self.connection.get_output_stream().write_all((line + "\n").encode(), None)
        self.reader.read_line_async(GLib.PRIORITY_DEFAULT, None, self.on_answer)

    def on_answer(self, reader, result):
        data, length = reader.read_line_finish(result)
        print(f"client: got {data!r} ({length} bytes)")
        self.send_next()


def main():
    loop = GLib.MainLoop()
    timed_out = []

    def watchdog():
        timed_out.append(True)
        print("watchdog: giving up", file=sys.stderr)
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.timeout_add_seconds(10, watchdog)
    server = EchoServer(loop)
    client = LineClient(server.port)
    loop.run()
    del client
    return 1 if timed_out else 0


if __name__ == "__main__":
    sys.exit(main())
