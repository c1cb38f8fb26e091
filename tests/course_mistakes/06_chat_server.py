"""Wrong solutions of ``06-chat-server.ipynb`` and the messages their checks must give."""

from course_support import Mistake

MISTAKES = [
    Mistake(
        name="06-connect-one-after-another", exercise="exercise-connect", check="check-connect",
        code=("def on_connect(listener, condition, room):\n    conn = listener.accept(None)\n    room.join(conn)\n"
              "    while conn.receive(None, 1024)[0] > 0:  # serve this member until it leaves\n        pass\n"
              "    room.leave(conn)\n    return True\n"),
        message=r"(?s)concurrent_connections: expected 3 connections of 'server' \(127\.0\.0\.1:\d+\) open at once"
                r".*found: \d connections?, at most 1 at once.*hint: serve each client as it comes"),
    Mistake(
        name="06-connect-stays-blocking", exercise="exercise-connect", check="check-connect",
        code=("def on_connect(listener, condition, room):\n    conn = listener.accept(None)\n"
              "    room.join(conn)  # still blocking\n    return True\n"),
        message=r"(?s)mode: expected every send and receive of 'conn-alice' to run non-blocking"
                r".*found: 1 of 1 did not"),
    Mistake(
        name="06-connect-removes-its-source", exercise="exercise-connect", check="check-connect",
        code=("def on_connect(listener, condition, room):\n    conn = listener.accept(None)\n"
              "    conn.set_blocking(False)\n    room.join(conn)  # no return: None removes the source\n"),
        message=r"(?s)concurrent_connections: expected 3 connections of 'server'.*found: 1 connection, at most 1"),
    Mistake(
        name="06-relay-to-everyone", exercise="exercise-relay", check="check-relay",
        code="def relay(room, sender, line):\n    for conn in room.members:\n        conn.send(line, None)\n",
        message=r"(?s)not_called: expected no call of send\* on 'conn-alice'.*found: 1 call.*b'alice: hello\\n'"),
    Mistake(
        name="06-relay-first-only", exercise="exercise-relay", check="check-relay",
        code=("def relay(room, sender, line):\n    for conn in room.members:\n        if conn is not sender:\n"
              "            conn.send(line, None)\n            return  # only the first one\n"),
        message=r"(?s)sent: expected 1 datagram or chunk sent by 'conn-carol' carrying b'alice: hello\\n'"
                r".*found: 0"),
    Mistake(
        name="06-readable-pieces-as-lines", exercise="exercise-readable", check="check-readable",
        code=("def on_readable(conn, condition, room):\n    count, data = conn.receive(None, 1024)\n"
              "    if count == 0:\n        room.leave(conn)\n        return False\n"
              "    relay(room, conn, room.names[conn] + b': ' + bytes(data))  # a piece is not a line\n"
              "    return True\n"),
        message=r"(?s)sent: expected 1 datagram or chunk sent by 'conn-bob' carrying b'alice: hello everyone\\n'"
                r".*found: 0.*b'alice: hel'"),
    Mistake(
        name="06-readable-one-line-per-call", exercise="exercise-readable", check="check-readable",
        code=("def on_readable(conn, condition, room):\n    count, data = conn.receive(None, 1024)\n"
              "    if count == 0:\n        room.leave(conn)\n        return False\n"
              "    buffer = room.buffers[conn]\n    buffer += data\n"
              "    if b'\\n' in buffer:  # only the first line\n"
              "        line, _, rest = bytes(buffer).partition(b'\\n')\n        buffer[:] = rest\n"
              "        relay(room, conn, room.names[conn] + b': ' + line + b'\\n')\n    return True\n"),
        message=r"(?s)sent: expected 1 datagram or chunk sent by 'conn-bob' carrying b'carol: two\\n'.*found: 0"),
    Mistake(
        name="06-readable-ignores-the-end", exercise="exercise-readable", check="check-readable",
        code=("def on_readable(conn, condition, room):\n    count, data = conn.receive(None, 1024)\n"
              "    buffer = room.buffers[conn]\n    buffer += data  # 0 bytes: nothing to add, and nothing done\n"
              "    while b'\\n' in buffer:\n        line, _, rest = bytes(buffer).partition(b'\\n')\n"
              "        buffer[:] = rest\n        relay(room, conn, room.names[conn] + b': ' + line + b'\\n')\n"
              "    return True\n"),
        message=r"(?s)called: expected 1 call of close on 'conn-alice'.*found: no call of close on 'conn-alice'"),
    Mistake(
        name="06-collect-busy-wait", exercise="exercise-collect", check="check-collect",
        code=("def collect(sock, seconds):\n    sock.set_blocking(False)\n    data = b''\n"
              "    deadline = time.monotonic() + seconds\n    while time.monotonic() < deadline:\n"
              "        try:\n            count, chunk = sock.receive(None, 4096)\n"
              "        except GLib.Error:  # WOULD_BLOCK: try again at once\n            continue\n"
              "        data += bytes(chunk)\n    return data\n"),
        message=r"(?s)no_busy_wait: expected at most 20 WOULD_BLOCK a second on 'carol'.*found: \d+ in the second"
                r".*hint: wait for the condition"),
    Mistake(
        name="06-collect-blocking", exercise="exercise-collect", check="check-collect",
        code=("def collect(sock, seconds):\n    data = b''\n    deadline = time.monotonic() + seconds\n"
              "    while time.monotonic() < deadline:\n        try:\n"
              "            count, chunk = sock.receive(None, 4096)  # blocking, up to the 1 s socket timeout\n"
              "        except GLib.Error:\n            break\n        data += bytes(chunk)\n    return data\n"),
        message=r"(?s)mode: expected every send and receive of 'carol' to run non-blocking.*found: \d of \d did not"),
]
