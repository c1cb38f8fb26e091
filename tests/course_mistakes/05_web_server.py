"""Wrong solutions of ``05-web-server.ipynb`` and the messages their checks must give."""

from course_support import Mistake

MISTAKES = [
    Mistake(
        name="05-read-request-one-receive", exercise="exercise-read-request", check="check-read-request",
        code=("def read_request(conn):\n    count, data = conn.receive(None, 4096)  # only the first piece\n"
              "    method, path = data.split(b'\\r\\n')[0].decode().split(' ')[:2]\n    return method, path\n"),
        message=r"(?s)stream_intact: expected \d+ bytes received by 'server-conn', as 'client' sent"
                r".*found: 8 bytes.*b'GET /hel'"),
    Mistake(
        name="05-read-request-until-end-of-stream", exercise="exercise-read-request", check="check-read-request",
        code=("def read_request(conn):\n    head = b''\n    while True:  # waits for the end of the stream\n"
              "        count, data = conn.receive(None, 4096)\n        if count == 0:\n            break\n"
              "        head += data\n    method, path, _ = head.split(b'\\r\\n')[0].decode().split(' ')\n"
              "    return method, path\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'client' carrying "
                r"b'HTTP/1\.0 200 OK\\r\\n.*found: 0"),
    Mistake(
        name="05-respond-counts-characters", exercise="exercise-respond", check="check-respond",
        code=("def respond(conn, status, body, content_type):\n"
              "    length = len(body.decode())  # characters, not bytes\n"
              "    head = f'HTTP/1.0 {status}\\r\\nContent-Type: {content_type}\\r\\n'\n"
              "    head += f'Content-Length: {length}\\r\\n\\r\\n'\n"
              "    send_all(conn, head.encode() + body)\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'client-1' carrying "
                r"b'HTTP/1\.0 200 OK\\r\\nContent-Type: text/html; charset=utf-8\\r\\n"
                r"Content-Length: 30\\r\\n.*found: 0"),
    Mistake(
        name="05-respond-no-empty-line", exercise="exercise-respond", check="check-respond",
        code=("def respond(conn, status, body, content_type):\n"
              "    head = f'HTTP/1.0 {status}\\r\\nContent-Type: {content_type}\\r\\n'\n"
              "    head += f'Content-Length: {len(body)}\\r\\n'\n"
              "    send_all(conn, head.encode() + body)  # the head does not end with an empty line\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'client-1'.*found: 0"),
    Mistake(
        name="05-handle-never-404", exercise="exercise-handle", check="check-handle",
        code=("def handle(conn):\n    _method, path = read_request(conn)\n"
              "    respond(conn, '200 OK', PAGES.get(path, NOT_FOUND), 'text/html; charset=utf-8')\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'client-2' carrying "
                r"b'HTTP/1\.0 404 Not Found\\r\\n.*found: 0"),
    Mistake(
        name="05-handle-ignores-the-path", exercise="exercise-handle", check="check-handle",
        code=("def handle(conn):\n    read_request(conn)\n"
              "    respond(conn, '200 OK', PAGES['/'], 'text/html; charset=utf-8')  # the same page for every path\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'client-2' carrying "
                r"b'HTTP/1\.0 404 Not Found\\r\\n.*found: 0"),
    Mistake(
        name="05-fetch-no-timeout", exercise="exercise-fetch", check="check-fetch",
        code=("def fetch(sock, port, path):\n    sock.connect(address(port), None)  # no timeout\n"
              "    send_all(sock, f'GET {path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n'.encode())\n"
              "    response = b''\n    while True:\n        count, data = sock.receive(None, 4096)\n"
              "        if count == 0:\n            break\n        response += data\n"
              "    head, _, body = response.partition(b'\\r\\n\\r\\n')\n"
              "    return int(head.split(b' ')[1]), body\n"),
        message=r"(?s)timeout_at_most: expected a timeout of at most 1 s on every wait of 'client'"
                r".*found: \d+ of \d+ without one"),
    Mistake(
        name="05-fetch-one-receive", exercise="exercise-fetch", check="check-fetch",
        code=("def fetch(sock, port, path):\n    sock.set_timeout(1)\n    sock.connect(address(port), None)\n"
              "    send_all(sock, f'GET {path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n'.encode())\n"
              "    count, response = sock.receive(None, 4096)  # only what has arrived so far\n"
              "    head, _, body = bytes(response).partition(b'\\r\\n\\r\\n')\n"
              "    return int(head.split(b' ')[1]), body\n"),
        message=r"(?s)stream_intact: expected 81 bytes received by 'client', as 'server-conn' sent"
                r".*found: 27 bytes"),
]
