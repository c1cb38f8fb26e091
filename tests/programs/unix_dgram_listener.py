"""A Unix datagram listener: a Gio.Socket bound to a path, read from a socket source in the main loop.

GLib 2.74 has no binding-friendly receive (Gio.Socket.receive() cannot be given a buffer from
Python), so the listener receives with receive_message into a ctypes buffer.
"""

import ctypes
import os
import shutil
import socket
import sys
import tempfile

from gi.repository import Gio, GLib

MESSAGES = [b"temperature=21.5", b"humidity=40", b"pressure=1013"]


class Listener:
    def __init__(self, path, loop):
        self.loop = loop
        self.count = 0
        self.buffer = ctypes.create_string_buffer(4096)
        self.socket = Gio.Socket.new(Gio.SocketFamily.UNIX, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.DEFAULT)
        self.socket.bind(Gio.UnixSocketAddress.new(path), True)
        self.source = self.socket.create_source(GLib.IOCondition.IN, None)
        self.source.set_callback(self.on_readable)
        self.source.attach(GLib.MainContext.default())

    def receive(self):
        vector = Gio.InputVector()
        vector.buffer = ctypes.addressof(self.buffer)
        vector.size = len(self.buffer)
        result = self.socket.receive_message([vector], 0, None)
        return self.buffer.raw[:result[0]], result.address

    def on_readable(self, data=None):
        payload, sender = self.receive()
        self.count += 1
        origin = "an unbound socket" if sender is None else os.path.basename(sender.get_path())
        print(f"listener: datagram {self.count}: {payload.decode()!r} from {origin}")
        if self.count == len(MESSAGES):
            self.loop.quit()
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE


def main():
    directory = tempfile.mkdtemp(prefix="unix-dgram-")
    try:
        return run(directory)
    finally:
        shutil.rmtree(directory)


def run(directory):
    path = os.path.join(directory, "listener.sock")
    loop = GLib.MainLoop()
    timed_out = []

    def watchdog():
        timed_out.append(True)
        print("watchdog: giving up", file=sys.stderr)
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.timeout_add_seconds(10, watchdog)
    listener = Listener(path, loop)

    anonymous = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    named = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    named.bind(os.path.join(directory, "sensor.sock"))
    anonymous.sendto(MESSAGES[0], path)
    named.sendto(MESSAGES[1], path)

    def send_last():  # once the listener has drained the first two, the socket becomes readable again
        anonymous.sendto(MESSAGES[2], path)
        return GLib.SOURCE_REMOVE

    GLib.timeout_add(100, send_last)

    loop.run()
    anonymous.close()
    named.close()
    listener.socket.close()
    print("listener: socket closed:", listener.socket.is_closed())
    return 1 if timed_out else 0


if __name__ == "__main__":
    sys.exit(main())
