"""Wrong solutions of ``02-io-models.ipynb`` and the messages their checks must give."""

from course_support import Mistake

MISTAKES = [
    Mistake(
        name="02-collect-nonblocking", exercise="exercise-collect", check="check-collect",
        code=("def collect(sock):\n    sock.set_timeout(1)\n    sock.set_blocking(False)  # does not wait at all\n"
              "    payloads = []\n    while True:\n        try:\n"
              "            payloads.append(bytes(sock.receive(None, 1024)[1]))\n"
              "        except GLib.Error:\n            return payloads\n"),
        message=r"(?s)mode: expected every send and receive of 'collector' to run blocking.*found: 1 of 1 did not"
                r".*WOULD_BLOCK"),
    Mistake(
        name="02-collect-timeout-too-long", exercise="exercise-collect", check="check-collect",
        code=("def collect(sock):\n    sock.set_timeout(2)\n    payloads = []\n    while True:\n        try:\n"
              "            payloads.append(bytes(sock.receive(None, 1024)[1]))\n"
              "        except GLib.Error:\n            return payloads\n"),
        message=r"(?s)expected a timeout of at most 1 s on every wait of 'collector'"
                r".*found: 4 of 4 longer \(up to 2 s\)"),
    Mistake(
        name="02-nonblocking-busy-loop", exercise="exercise-nonblocking", check="check-nonblocking",
        code=("def read_nonblocking(sock):\n    sock.set_blocking(False)\n    while True:  # try again, at once\n"
              "        try:\n            return bytes(sock.receive(None, 1024)[1])\n"
              "        except GLib.Error as error:\n"
              "            if error.code != Gio.IOErrorEnum.WOULD_BLOCK:\n                raise\n"),
        message=r"(?s)no_busy_wait: expected at most 20 WOULD_BLOCK a second on 'reader'.*found: \d{3,} in the second"
                r".*hint: wait for the condition"),
    Mistake(
        name="02-nonblocking-sleep-loop", exercise="exercise-nonblocking", check="check-nonblocking",
        code=("def read_nonblocking(sock):\n    sock.set_blocking(False)\n    while True:\n"
              "        try:\n            return bytes(sock.receive(None, 1024)[1])\n"
              "        except GLib.Error as error:\n"
              "            if error.code != Gio.IOErrorEnum.WOULD_BLOCK:\n                raise\n"
              "        time.sleep(0.002)  # 'polite' polling is still polling\n"),
        message=r"(?s)no_busy_wait: expected at most 20 WOULD_BLOCK a second on 'reader'.*found: \d\d+ in the second"),
    Mistake(
        name="02-nonblocking-still-blocking", exercise="exercise-nonblocking", check="check-nonblocking",
        code="def read_nonblocking(sock):\n    return bytes(sock.receive(None, 1024)[1])  # never set non-blocking\n",
        message=r"(?s)mode: expected every send and receive of 'reader' to run non-blocking.*found: 1 of 1 did not"
                r".*hint: set_blocking\(False\)"),
    Mistake(
        name="02-timed-wait-no-deadline", exercise="exercise-timed-wait", check="check-timed-wait",
        code=("def wait_readable(sock, seconds):\n    try:\n        return sock.condition_wait(IN, None)\n"
              "    except GLib.Error:\n        return False\n"),
        message=r"(?s)expected a timeout of at most 0\.5 s on every wait of 'waiter'.*found: 2 of 2"
                r".*condition_wait"),
    Mistake(
        name="02-timed-wait-milliseconds", exercise="exercise-timed-wait", check="check-timed-wait",
        code=("def wait_readable(sock, seconds):\n    try:\n"
              "        return sock.condition_timed_wait(IN, int(seconds * 1000))  # ms, not µs\n"
              "    except GLib.Error:\n        return False\n"),
        message=r"(?s)called: expected 1 call of condition_timed_wait on 'waiter' that succeeded.*found: 0 such calls"),
    Mistake(
        name="02-timed-wait-receives", exercise="exercise-timed-wait", check="check-timed-wait",
        code=("def wait_readable(sock, seconds):\n    try:\n"
              "        sock.receive_bytes(1024, int(seconds * 1_000_000))  # reads (and loses) the data\n"
              "        return True\n    except GLib.Error:\n        return False\n"),
        message=r"(?s)called: expected 1 call of condition_timed_wait on 'waiter' that failed with TIMED_OUT"
                r".*found: no call of condition_timed_wait on 'waiter'"),
    Mistake(
        name="02-cancel-not-passed", exercise="exercise-cancel", check="check-cancel",
        code=("def receive_or_stop(sock, cancellable):\n    try:\n"
              "        return bytes(sock.receive(None, 1024)[1])  # the cancellable is not passed\n"
              "    except GLib.Error:\n        return None\n"),
        message=r"(?s)expected 1 call of receive\* on 'listener' that failed with CANCELLED.*found: 0 such calls"
                r".*TIMED_OUT"),
    Mistake(
        name="02-cancel-polling", exercise="exercise-cancel", check="check-cancel",
        code=("def receive_or_stop(sock, cancellable):\n    while not cancellable.is_cancelled():  # polls the flag\n"
              "        try:\n            return sock.receive_bytes(1024, 50_000)\n"
              "        except GLib.Error:\n            pass\n    return None\n"),
        message=r"(?s)expected 1 call of receive\* on 'listener' that failed with CANCELLED.*found: 0 such calls"),
]
