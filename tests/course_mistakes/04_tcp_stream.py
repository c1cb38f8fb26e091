"""Wrong solutions of ``04-tcp-stream.ipynb`` and the messages their checks must give."""

from course_support import Mistake

MISTAKES = [
    Mistake(
        name="04-read-exactly-one-receive", exercise="exercise-read-exactly", check="check-read-exactly",
        code="def read_exactly(sock, n):\n    return sock.receive(None, n)[1]  # one receive: whatever has arrived\n",
        message=r"(?s)stream_intact: expected 42 bytes received by 'client', as 'server-conn' sent"
                r".*found: \d+ bytes.*hint: a stream delivers bytes, not messages"),
    Mistake(
        name="04-send-all-one-send", exercise="exercise-send-all", check="check-send-all",
        code="def send_all(sock, data):\n    sock.send(data, None)  # may take only part of it\n",
        message=r"(?s)received: expected 1 datagram or chunk received by 'client' carrying b'got 16777216 bytes'"
                r".*found: 0.*b'got \d+ bytes'"),
    Mistake(
        name="04-send-all-resends-the-start", exercise="exercise-send-all", check="check-send-all",
        code=("def send_all(sock, data):\n    sent = 0\n    while sent < len(data):\n"
              "        sent += sock.send(data, None)  # sends from the start again\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'client' carrying b'got 16777216 bytes'"
                r".*found: 0.*b'got \d+ bytes'"),
    Mistake(
        name="04-framing-no-header", exercise="exercise-framing", check="check-framing",
        code=("def send_message(sock, payload):\n    send_all(sock, payload)  # no length in front\n\n\n"
              "def receive_message(sock):\n    return sock.receive(None, 1024)[1]\n"),
        message=r"(?s)stream_intact: expected \d+ bytes received by 'server-conn', as 'client' sent"
                r".*found: 4 bytes.*b'hell'"),
    Mistake(
        name="04-framing-little-endian", exercise="exercise-framing", check="check-framing",
        code=("def send_message(sock, payload):\n    send_all(sock, struct.pack('<I', len(payload)) + payload)\n\n\n"
              "def receive_message(sock):\n    (length,) = struct.unpack('<I', read_exactly(sock, 4))\n"
              "    return read_exactly(sock, length)\n"),
        message=r"(?s)stream_intact: expected \d+ bytes received by 'server-conn', as 'client' sent"
                r".*found: 4 bytes.*b'\\x05\\x00\\x00\\x00'"),
    Mistake(
        name="04-refused-nonblocking", exercise="exercise-refused", check="check-refused",
        code=("def try_connect(sock, address):\n    sock.set_timeout(1)\n    sock.set_blocking(False)\n    try:\n"
              "        sock.connect(address, None)\n        return True\n"
              "    except GLib.Error:\n        return False  # PENDING is not a refusal\n"),
        message=r"(?s)called: expected 1 call of connect on 'prober' that failed with CONNECTION_REFUSED"
                r".*found: 0 such calls.*PENDING"),
    Mistake(
        name="04-refused-no-timeout", exercise="exercise-refused", check="check-refused",
        code=("def try_connect(sock, address):\n    try:\n        sock.connect(address, None)\n"
              "    except GLib.Error as error:\n        if error.code != Gio.IOErrorEnum.CONNECTION_REFUSED:\n"
              "            raise\n        return False\n    return True\n"),
        message=r"(?s)timeout_at_most: expected a timeout of at most 1 s on every wait of 'prober'"
                r".*found: 1 of 1 without one"),
]
