"""Wrong solutions of ``09-unix-sockets.ipynb`` and the messages their checks must give."""

from course_support import Mistake

_RECEIVE_FILE = (
    "def receive_file(sock):\n    buffer = bytearray(256)\n"
    "    count, _address, messages, _flags = sock.receive_message([buffer], 0)\n"
    "    fds = [fd for m in messages if isinstance(m, Gio.UnixFDMessage) for fd in m.steal_fds()]\n"
    "    try:\n        contents = os.pread(fds[0], 65536, 0)\n    finally:\n"
    "        for fd in fds:\n            os.close(fd)\n"
    "    return buffer[:count].decode(), contents\n")
_SEND_FILE = (
    "def send_file(sock, name, fd):\n    message = Gio.UnixFDMessage.new()\n    message.append_fd(fd)\n"
    "    sock.send_message(None, [name.encode()], [message], 0)\n"
    "    for duplicate in message.steal_fds():\n        os.close(duplicate)\n")

MISTAKES = [
    Mistake(
        name="09-bind-without-unlink", exercise="exercise-bind", check="check-bind",
        code="def bind_fresh(sock, path):\n    sock.bind(Gio.UnixSocketAddress.new(path), False)\n",
        message=r"(?s)called: expected 1 call of bind on 'server' that succeeded.*found: 0 such calls"
                r".*ADDRESS_IN_USE"),
    Mistake(
        name="09-bind-allow-reuse", exercise="exercise-bind", check="check-bind",
        code=("def bind_fresh(sock, path):\n"
              "    sock.bind(Gio.UnixSocketAddress.new(path), True)  # SO_REUSEADDR does not help here\n"),
        message=r"(?s)called: expected 1 call of bind on 'server' that succeeded.*found: 0 such calls"
                r".*ADDRESS_IN_USE"),
    Mistake(
        name="09-bind-removes-any-file", exercise="exercise-bind", check="check-bind",
        code=("def bind_fresh(sock, path):\n    if os.path.exists(path):\n        os.unlink(path)  # whatever it is\n"
              "    sock.bind(Gio.UnixSocketAddress.new(path), False)\n"),
        message=r"(?s)called: expected 1 call of bind on 'careful' that failed with ADDRESS_IN_USE"
                r".*found: 0 such calls"),
    Mistake(
        name="09-fd-name-only", exercise="exercise-fd", check="check-fd",
        code=("def send_file(sock, name, fd):\n    sock.send(name.encode(), None)  # the name, but no descriptor\n\n\n"
              + _RECEIVE_FILE),
        message=r"(?s)called: expected 1 call of send_message on 'sender' that succeeded"
                r".*found: no call of send_message on 'sender'; calls made: .*send"),
    Mistake(
        name="09-fd-no-control-message", exercise="exercise-fd", check="check-fd",
        code=("def send_file(sock, name, fd):\n    sock.send_message(None, [name.encode()], None, 0)\n\n\n"
              + _RECEIVE_FILE),
        message=r"(?s)received: expected 1 datagram or chunk received by 'sender' carrying b'notes\.txt: 64 bytes'"
                r".*found: 0.*b'receive_file failed'"),
    Mistake(
        name="09-fd-plain-receive", exercise="exercise-fd", check="check-fd",
        code=(_SEND_FILE + "\n\n"
              "def receive_file(sock):\n    count, data = sock.receive(None, 256)  # the descriptor is dropped\n"
              "    name = bytes(data).decode()\n    return name, (FOLDER / name).read_bytes()\n"),
        message=r"(?s)called: expected 1 call of receive_message on 'receiver' that succeeded"
                r".*found: no call of receive_message on 'receiver'; calls made: .*receive"),
    Mistake(
        name="09-fd-reads-from-the-offset", exercise="exercise-fd", check="check-fd",
        code=(_SEND_FILE + "\n\n"
              "def receive_file(sock):\n    buffer = bytearray(256)\n"
              "    count, _address, messages, _flags = sock.receive_message([buffer], 0)\n"
              "    fd = messages[0].steal_fds()[0]\n"
              "    contents = os.read(fd, 65536)  # from the shared offset, not from the start\n"
              "    os.close(fd)\n    return buffer[:count].decode(), contents\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'sender' carrying b'notes\.txt: 64 bytes'"
                r".*found: 0.*b'notes\.txt: 56 bytes'"),
    Mistake(
        name="09-credentials-own", exercise="exercise-credentials", check="check-credentials",
        code=("def greet_peer(conn):\n    me = Gio.Credentials.new()  # this process, not the peer\n"
              "    conn.send(f'hello, process {me.get_unix_pid()} of user {me.get_unix_user()}\\n'.encode(), None)\n"),
        message=r"(?s)sent: expected 1 datagram or chunk sent by 'server-conn' carrying b'hello, process \d+ of user"
                r".*found: 0.*b'hello, process \d+ of"),
    Mistake(
        name="09-credentials-waits-for-a-message", exercise="exercise-credentials", check="check-credentials",
        code=("def greet_peer(conn):\n"
              "    peer = conn.connection_factory_create_connection().receive_credentials()  # none is sent\n"
              "    greeting = f'hello, process {peer.get_unix_pid()} of user {peer.get_unix_user()}\\n'\n"
              "    conn.send(greeting.encode(), None)\n"),
        message=r"(?s)sent: expected 1 datagram or chunk sent by 'server-conn' carrying b'hello, process \d+ of user"
                r".*found: 0"),
]
