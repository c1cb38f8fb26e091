"""Wrong solutions of ``07-multicast.ipynb`` and the messages their checks must give."""

from course_support import Mistake

MISTAKES = [
    Mistake(
        name="07-listen-never-joins", exercise="exercise-listen", check="check-listen",
        code=("def listen(sock, group, port, iface):\n"
              "    sock.bind(address(\"0.0.0.0\", port), True)  # bound to the port, but no join\n"),
        message=r"in_order: expected join_multicast_group before receive\* on 'lo/rx'\n"
                r"  found: no call of join_multicast_group on 'lo/rx'"),
    Mistake(
        name="07-listen-bound-to-unicast", exercise="exercise-listen", check="check-listen",
        code=("def listen(sock, group, port, iface):\n"
              "    sock.bind(address(\"127.0.0.1\", port), True)  # a unicast address: no group datagram\n"
              "    sock.join_multicast_group(Gio.InetAddress.new_from_string(group), False, iface)\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'lo/rx' carrying b'hello, lo'\n"
                r"  found: 0; 1 receive calls failed.*TIMED_OUT"),
    Mistake(
        name="07-listen-wrong-port", exercise="exercise-listen", check="check-listen",
        code=("def listen(sock, group, port, iface):\n"
              "    sock.bind(address(\"0.0.0.0\", 0), True)  # any free port: not the group's\n"
              "    sock.join_multicast_group(Gio.InetAddress.new_from_string(group), False, iface)\n"),
        message=r"(?s)received: expected 1 datagram or chunk received by 'lo/rx' carrying b'hello, lo'\n"
                r"  found: 0"),
    Mistake(
        name="07-ttl-one-per-router", exercise="exercise-ttl", check="check-ttl",
        code=("def send_to_group(sock, group, port, data, routers):\n"
              "    sock.set_multicast_ttl(routers)  # dies at the router\n"
              "    sock.send_to(address(group, port), data)\n"),
        message=r"(?s)called: expected 1 call of set_multicast_ttl on 'h1/tx' setting 2\n"
                r"  found: 0 such calls; the calls of set_multicast_ttl are below"),
    Mistake(
        name="07-ttl-far-too-big", exercise="exercise-ttl", check="check-ttl",
        code=("def send_to_group(sock, group, port, data, routers):\n"
              "    sock.set_multicast_ttl(64)  # \"to be safe\": it crosses 63 routers too many\n"
              "    sock.send_to(address(group, port), data)\n"),
        message=r"(?s)called: expected 1 call of set_multicast_ttl on 'h1/tx' setting 2\n  found: 0 such calls"),
    Mistake(
        name="07-ttl-unicast-ttl", exercise="exercise-ttl", check="check-ttl",
        code=("def send_to_group(sock, group, port, data, routers):\n"
              "    sock.set_ttl(routers + 1)  # the unicast TTL: multicast keeps TTL 1\n"
              "    sock.send_to(address(group, port), data)\n"),
        message=r"called: expected 1 call of set_multicast_ttl on 'h1/tx' setting 2\n"
                r"  found: no call of set_multicast_ttl on 'h1/tx'; calls made: set_ttl, send_to"),
    Mistake(
        name="07-fix-port-only", exercise="exercise-fix", check="check-fix",
        code=("def fixed_setup(rx, tx):\n"
              "    rx.bind(address(\"0.0.0.0\", FIX_PORT), True)\n"
              "    rx.join_multicast_group(Gio.InetAddress.new_from_string(FIX_GROUP), False, \"lo\")\n"),
        message=r"(?s)no_findings: expected no findings in diagnose\(\)\n"
                r"  found: WRONG_INTERFACE on h4/rx at seq \d+\n  hint: join on the interface facing the sender"),
    Mistake(
        name="07-fix-ttl-forgotten", exercise="exercise-fix", check="check-fix",
        code=("def fixed_setup(rx, tx):\n"
              "    rx.bind(address(\"0.0.0.0\", FIX_PORT), True)\n"
              "    rx.join_multicast_group(Gio.InetAddress.new_from_string(FIX_GROUP), False, \"eth0\")\n"),
        message=r"(?s)found: TTL_TOO_SMALL on h4/rx at seq \d+\n  hint: set_multicast_ttl\(2\) or more on h1/tx"),
    Mistake(
        name="07-fix-join-dropped", exercise="exercise-fix", check="check-fix",
        code=("def fixed_setup(rx, tx):\n"
              "    rx.bind(address(\"0.0.0.0\", FIX_PORT), True)  # the join on lo was wrong: removed it\n"
              "    tx.set_multicast_ttl(2)\n"),
        message=r"(?s)found: NOT_JOINED on h4/rx at seq \d+\n  hint: join on this socket before the datagrams"),
]
