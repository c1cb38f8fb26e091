"""A UDP announcer: every second a Gio.Socket sends an announcement to a listener on 127.0.0.1.

The listener is a stdlib datagram socket watched by GLib.io_add_watch, in the same main loop.
"""

import socket
import sys

from gi.repository import Gio, GLib

SERVICE = "printer-3"
COUNT = 3


class Announcer:
    def __init__(self, destination):
        self.destination = destination
        self.sent = 0
        self.socket = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
        self.socket.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
        GLib.timeout_add_seconds(1, self.announce)

    def announce(self):
        self.sent += 1
        message = f"ANNOUNCE {SERVICE} seq={self.sent}".encode()
        n = self.socket.send_to(self.destination, message, None)
        print(f"announcer: sent announcement {self.sent} ({n} bytes)")
        if self.sent < COUNT:
            return GLib.SOURCE_CONTINUE
        return GLib.SOURCE_REMOVE


class Listener:
    def __init__(self, loop):
        self.loop = loop
        self.heard = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        host, port = self.sock.getsockname()
        self.address = Gio.InetSocketAddress.new_from_string(host, port)
        self.watch = GLib.io_add_watch(self.sock.fileno(), GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN, self.on_readable)

    def on_readable(self, fd, condition):
        data, (host, _) = self.sock.recvfrom(2048)
        self.heard += 1
        print(f"listener: heard {data.decode()!r} from {host}")
        if self.heard == COUNT:
            self.loop.quit()
            return False
        return True


def main():
    loop = GLib.MainLoop()
    timed_out = []

    def watchdog():
        timed_out.append(True)
        print("watchdog: giving up", file=sys.stderr)
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.timeout_add_seconds(10, watchdog)
    listener = Listener(loop)
    announcer = Announcer(listener.address)
    loop.run()
    announcer.socket.close()
    listener.sock.close()
    return 1 if timed_out else 0


if __name__ == "__main__":
    sys.exit(main())
