"""Wrong solutions of ``03-udp-pinger.ipynb`` and the messages their checks must give."""

from course_support import Mistake

_PING_HEAD = "def ping(sock, server_address, count):\n"
_SEND_AND_WAIT = ("        start = time.monotonic()\n"
                  "        sock.send_to(server_address, f'ping {n}'.encode())\n")

MISTAKES = [
    Mistake(
        name="03-ping-deadline-too-long", exercise="exercise-ping", check="check-ping",
        code=(_PING_HEAD + "    rtts = []\n    for n in range(1, count + 1):\n" + _SEND_AND_WAIT +
              "        try:\n            sock.receive_bytes_from(1024, 1_500_000, None)  # 1.5 s\n"
              "            rtts.append(time.monotonic() - start)\n"
              "        except GLib.Error:\n            rtts.append(None)\n"
              "    return rtts, rtts.count(None) / count\n"),
        message=r"(?s)timeout_at_most: expected a timeout of at most 1 s on every wait of 'pinger'"
                r".*found: 10 of 10 longer \(up to 1\.5 s\)"),
    Mistake(
        name="03-ping-loss-per-answer", exercise="exercise-ping", check="check-ping",
        code=(_PING_HEAD + "    sock.set_timeout(1)\n    rtts = []\n    for n in range(1, count + 1):\n"
              + _SEND_AND_WAIT +
              "        try:\n            sock.receive_bytes_from(1024, -1, None)\n"
              "            rtts.append(time.monotonic() - start)\n"
              "        except GLib.Error:\n            rtts.append(None)\n"
              "    answered = count - rtts.count(None)\n"
              "    return rtts, rtts.count(None) / answered  # lost per answered, not per sent\n"),
        message=r"(?s)loss_rate_matches: expected a loss rate of 0\.400 \(4 of 10 requests unanswered\)"
                r".*found: 0\.667 reported"),
    Mistake(
        name="03-retry-new-payload", exercise="exercise-retry", check="check-retry",
        code=("def ping_with_retries(sock, server_address, count, tries=3):\n    sock.set_timeout(1)\n    rtts = []\n"
              "    for n in range(1, count + 1):\n        rtt = None\n        for t in range(1, tries + 1):\n"
              "            start = time.monotonic()\n"
              "            sock.send_to(server_address, f'ping {n} try {t}'.encode())  # a new request each try\n"
              "            try:\n                sock.receive_bytes_from(1024, -1, None)\n"
              "            except GLib.Error:\n                continue\n"
              "            rtt = time.monotonic() - start\n            break\n"
              "        rtts.append(rtt)\n    return rtts\n"),
        message=r"(?s)retried_after_timeout: expected the retry on 'pinger' to resend the unanswered request "
                r"b'ping 2 try 1'.*found: seq \d+ sent b'ping 2 try 2'"),
    Mistake(
        name="03-retry-never", exercise="exercise-retry", check="check-retry",
        code=("def ping_with_retries(sock, server_address, count, tries=3):\n    sock.set_timeout(1)\n    rtts = []\n"
              "    for n in range(1, count + 1):\n        start = time.monotonic()\n"
              "        sock.send_to(server_address, f'ping {n}'.encode())\n"
              "        try:\n            sock.receive_bytes_from(1024, -1, None)\n"
              "            rtts.append(time.monotonic() - start)\n"
              "        except GLib.Error:\n            rtts.append(None)  # gives up at once\n"
              "    return rtts\n"),
        message=r"(?s)retried_after_timeout: expected the retry on 'pinger' to resend the unanswered request "
                r"b'ping 2'.*found: seq \d+ sent b'ping 3'"),
    Mistake(
        name="03-retry-waits-again", exercise="exercise-retry", check="check-retry",
        code=("def ping_with_retries(sock, server_address, count, tries=3):\n    sock.set_timeout(1)\n    rtts = []\n"
              "    for n in range(1, count + 1):\n        start, rtt = time.monotonic(), None\n"
              "        sock.send_to(server_address, f'ping {n}'.encode())\n"
              "        for _ in range(2):  # waits once more instead of resending\n"
              "            try:\n                sock.receive_bytes_from(1024, -1, None)\n"
              "            except GLib.Error:\n                continue\n"
              "            rtt = time.monotonic() - start\n            break\n"
              "        rtts.append(rtt)\n    return rtts\n"),
        message=r"(?s)retried_after_timeout: expected a send \(the retry\) right after the timeout on 'pinger'"
                r".*found: receive_bytes_from at seq \d+ after the timeout at seq \d+"),
]
