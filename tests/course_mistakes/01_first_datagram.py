"""Wrong solutions of ``01-first-datagram.ipynb`` and the messages their checks must give."""

from course_support import Mistake

MISTAKES = [
    Mistake(
        name="01-hello-wrong-bytes", exercise="exercise-hello", check="check-hello",
        code='def say_hello(sock, to):\n    sock.send_to(to, b"hi")\n',
        message=r"(?s)expected 1 datagram or chunk sent by 'sender' to 127\.0\.0\.1:\d+ carrying b'hello'.*"
                r"found: 0"),
    Mistake(
        name="01-hello-to-itself", exercise="exercise-hello", check="check-hello",
        code='def say_hello(sock, to):\n    sock.send_to(sock.get_local_address(), b"hello")\n',
        message=r"(?s)sent by 'sender' to 127\.0\.0\.1:\d+ carrying b'hello'.*found: 0"),
    Mistake(
        name="01-echo-no-answer", exercise="exercise-echo", check="check-echo",
        code="def echo_once(server):\n    server.receive_bytes_from(1024, 1_000_000, None)\n",
        message=r"(?s)expected an answer from 'server' to 127\.0\.0\.1:\d+ for the datagram received at seq \d+"
                r".*found: no such send"),
    Mistake(
        name="01-timeout-nonblocking", exercise="exercise-timeout", check="check-timeout",
        code=("def receive_or_none(sock):\n    try:\n"
              "        return bytes(sock.receive_bytes_from(1024, 0, None)[0])  # 0: do not wait at all\n"
              "    except GLib.Error:\n        return None\n"),
        message=r"(?s)timeout_at_most: expected calls of 'waiter' that wait .*found: none: 1 call of 'waiter' ran "
                r"non-blocking"),
    Mistake(
        name="01-timeout-too-long", exercise="exercise-timeout", check="check-timeout",
        code=("def receive_or_none(sock):\n    sock.set_timeout(2)\n    try:\n"
              "        return bytes(sock.receive_bytes_from(1024, -1, None)[0])\n"
              "    except GLib.Error:\n        return None\n"),
        message=r"(?s)expected a timeout of at most 1 s on every wait of 'waiter'.*found: 1 of 1 longer \(up to 2 s\)"),
]
