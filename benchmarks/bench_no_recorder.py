"""Is an unrecorded socket as fast as before recording existed? This checkout against an older one.

Run it with ``.venv/bin/python benchmarks/bench_no_recorder.py [--against REV] [--runs N]``
from a git checkout. ``REV`` defaults to the commit before ``gsocklab/_observe.py`` (the
recording hook) was added. The older revision is checked out into a temporary git worktree;
each run starts one fresh interpreter per side, in alternating order, and times the best of
four loops of 20,000 UDP 64-byte ``send_to`` + ``receive_from`` round trips on loopback. The
ratio reported is the median over the runs of this checkout's rate divided by the older
one's (target: >= 0.97).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOOP = """
import sys, time
sys.path.insert(0, sys.argv[1])
from gsocklab import Gio

def udp():
    s = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    s.bind(Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4), 0), False)
    s.set_timeout(5)
    return s

a, b = udp(), udp()
dest, payload, best = b.get_local_address(), b"x" * 64, float("inf")
for _ in range(4):
    send_to, receive_from = a.send_to, b.receive_from
    t0 = time.perf_counter()
    for _ in range(20_000):
        send_to(dest, payload, None)
        receive_from(None, 2048)
    best = min(best, time.perf_counter() - t0)
print(20_000 / best)
"""


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def rate(checkout: Path) -> float:
    """Round trips per second of the loop, in a fresh interpreter importing ``checkout``'s gsocklab."""
    done = subprocess.run([sys.executable, "-c", LOOP, str(checkout)], check=True, capture_output=True, text=True,
                          timeout=300)
    return float(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--against", help="the older revision (default: before the recording hook)")
    parser.add_argument("--runs", type=int, default=11, help="paired runs (odd; default 11)")
    args = parser.parse_args(argv)
    hook_added = git("log", "--diff-filter=A", "--format=%H", "--", "gsocklab/_observe.py").split()[-1]
    against = args.against or hook_added + "~1"
    with tempfile.TemporaryDirectory() as tmp:
        older = Path(tmp) / "older"
        git("worktree", "add", "--detach", "-q", str(older), against)
        try:
            ratios, rates = [], []
            for run in range(args.runs):
                sides = [ROOT, older] if run % 2 == 0 else [older, ROOT]
                measured = {side: rate(side) for side in sides}
                rates.append(measured[ROOT])
                ratios.append(measured[ROOT] / measured[older])
        finally:
            git("worktree", "remove", "--force", str(older))
    ratio = statistics.median(ratios)
    print(f"unrecorded UDP round trips, this checkout vs {git('rev-parse', '--short', against)} "
          f"({args.runs} paired runs): {statistics.median(rates):,.0f} rt/s here")
    print("per run: " + ", ".join(f"{r:.3f}x" for r in ratios))
    print(f"median ratio {ratio:.3f}x  target >= 0.97x  {'PASS' if ratio >= 0.97 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
