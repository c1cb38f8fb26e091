"""Wrong solutions of ``08-batching.ipynb`` and the messages their checks must give."""

from course_support import Mistake

MISTAKES = [
    Mistake(
        name="08-send-loop-of-send-to", exercise="exercise-send", check="check-send",
        code=("def send_batch(sock, destination, payloads):\n"
              "    for data in payloads:\n"
              "        sock.send_to(destination, data)\n"
              "    return len(payloads)\n"),
        message=r"called: expected 1 call of send_messages on 'batcher' that succeeded\n"
                r"  found: no call of send_messages on 'batcher'; calls made: bind, send_to"),
    Mistake(
        name="08-send-one-call-per-payload", exercise="exercise-send", check="check-send",
        code=("def send_batch(sock, destination, payloads):\n"
              "    return sum(sock.send_messages([Gio.OutputMessage(address=destination, vectors=[data])], 0)\n"
              "               for data in payloads)\n"),
        message=r"agree: expected the number of send_messages calls by 'batcher' = 1\n  found: 16\n"
                r"  hint: build the whole list first, then call send_messages once"),
    Mistake(
        name="08-send-one-message-reused", exercise="exercise-send", check="check-send",
        code=("def send_batch(sock, destination, payloads):\n"
              "    message = Gio.OutputMessage(address=destination)\n"
              "    messages = []\n"
              "    for data in payloads:\n"
              "        message.vectors = [Gio.OutputVector(buffer=data)]  # the same message, changed\n"
              "        messages.append(message)\n"
              "    return sock.send_messages(messages, 0)\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'sink' carrying b'datagram 00'\n"
                r"  found: 0; 1 receive calls failed\n.*b'datagram 15'"),
    Mistake(
        name="08-send-no-address", exercise="exercise-send", check="check-send",
        code=("def send_batch(sock, destination, payloads):\n"
              "    return sock.send_messages([Gio.OutputMessage(vectors=[Gio.OutputVector(buffer=data)])\n"
              "                               for data in payloads], 0)\n"),
        message=r"(?s)called: expected 1 call of send_messages on 'batcher' that succeeded\n"
                r"  found: 0 such calls.*DESTINATION_UNSET"),
    Mistake(
        name="08-receive-all-rooms", exercise="exercise-receive", check="check-receive",
        code=("def receive_batch(sock, room):\n"
              "    messages = [Gio.InputMessage(vectors=[Gio.InputVector(size=2048)]) for _ in range(room)]\n"
              "    sock.receive_messages(messages, 0)\n"
              "    return [message.payload for message in messages]  # the unfilled ones too\n"),
        message=r"agree: expected what receive_batch\(inbox, 32\) returned = 20 items, \[b'reading 00', .*\]\n"
                r"  found: 32 items; item 20 is b'' \(there should be none\)\n"
                r"  hint: receive_messages returns how many messages it filled"),
    Mistake(
        name="08-receive-one-by-one", exercise="exercise-receive", check="check-receive",
        code=("def receive_batch(sock, room):\n"
              "    got = []\n"
              "    for _ in range(room):\n"
              "        try:\n"
              "            got.append(bytes(sock.receive_bytes_from(2048, 0, None)[0]))\n"
              "        except GLib.Error:\n"
              "            break\n"
              "    return got\n"),
        message=r"called: expected 1 call of receive_messages on 'sink' that succeeded\n"
                r"  found: no call of receive_messages on 'sink'; calls made: bind, set_blocking, receive_bytes_from"),
    Mistake(
        name="08-receive-one-room-reused", exercise="exercise-receive", check="check-receive",
        code=("def receive_batch(sock, room):\n"
              "    message = Gio.InputMessage(vectors=[Gio.InputVector(size=2048)])\n"
              "    count = sock.receive_messages([message] * room, 0)  # one room, 32 times\n"
              "    return [message.payload] * count\n"),
        message=r"agree: expected what receive_batch\(inbox, 32\) returned = 20 items, .*\n"
                r"  found: 20 items; item 0 is b'reading 19' instead of b'reading 00'\n"
                r"  hint: each InputMessage is the room of one datagram: a new one for each"),
    Mistake(
        name="08-count-every-row", exercise="exercise-count", check="check-count",
        code=("def io_calls(rec, label):\n"
              "    return int((rec.df[\"socket\"] == label).sum())\n"),
        message=r"agree: expected io_calls\(rec3, 'one-by-one'\) = 48\n  found: 49\n  hint: count each send_to"),
    Mistake(
        name="08-count-message-rows", exercise="exercise-count", check="check-count",
        code=("def io_calls(rec, label):\n"
              "    df = rec.df\n"
              "    return int(((df[\"socket\"] == label) & df[\"direction\"].notna()).sum())\n"),
        message=r"agree: expected io_calls\(rec3, 'batcher'\) = 3\n  found: 48\n"),
    Mistake(
        name="08-count-batches-only", exercise="exercise-count", check="check-count",
        code=("def io_calls(rec, label):\n"
              "    return len(rec.batches().query(\"socket == @label\"))\n"),
        message=r"agree: expected io_calls\(rec3, 'one-by-one'\) = 48\n  found: 0\n"),
]
