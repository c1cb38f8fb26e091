"""pcapng export benchmark: writing a recording as a capture file, measured in one run.

Run it with ``.venv/bin/python benchmarks/bench_pcapng.py [--rows N]`` (default 1,000,000).

The recording is what a program makes: ``N / 2`` UDP round trips on 127.0.0.1, each a
``send_to`` of a new payload of 16–200 bytes (a different size each time) and the
``receive_from`` that gets it, recorded with ``capture_bytes=256``. Printed:

* export speed: rows per second of ``rec.to_pcapng(path)``, and its time against
  ``rec.save(path)`` as Parquet (the other way a recording leaves the process) — for
  information;
* memory: the peak of Python and numpy allocations (``tracemalloc``) while exporting, over the
  memory of the recording's own DataFrame (``memory_usage(deep=True)``). The issue's target:
  the file is streamed, so the export never holds the recording twice: the frame it builds counts once,
  and the ratio stays below 2.0.

tshark is not needed here; ``tests/test_pcapng_tshark.py`` checks the files with it.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import tracemalloc

from gsocklab import Gio, Recorder


def record(rows: int) -> Recorder:
    """A recording of ``rows`` rows: UDP round trips with payloads of new sizes."""
    family, kind, protocol = Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.DEFAULT
    sender, receiver = Gio.Socket.new(family, kind, protocol), Gio.Socket.new(family, kind, protocol)
    loopback = Gio.InetSocketAddress.new_from_string("127.0.0.1", 0)
    sender.bind(loopback, True)
    receiver.bind(loopback, True)
    receiver.set_timeout(5)
    destination = receiver.get_local_address()
    sizes = random.Random(1)
    rec = Recorder(capture_bytes=256, max_events=rows + 16)
    try:
        with rec:
            for i in range(rows // 2):
                sender.send_to(destination, os.urandom(sizes.randint(16, 200)), None)
                receiver.receive_from(None, 2048)
                if i % 50_000 == 0:
                    print(f"  recorded {2 * i:,} rows", flush=True)
    finally:
        sender.close()
        receiver.close()
    return rec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rec = record(args.rows)
    frame_bytes = int(rec.to_dataframe().memory_usage(deep=True).sum())
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        rec.save(os.path.join(directory, "run.parquet"))
        parquet = time.perf_counter() - started
        started = time.perf_counter()
        counts = rec.to_pcapng(os.path.join(directory, "run.pcapng"))
        pcapng = time.perf_counter() - started
        size = os.path.getsize(os.path.join(directory, "run.pcapng"))
        tracemalloc.start()
        rec.to_pcapng(os.path.join(directory, "again.pcapng"))
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rows = len(rec.to_dataframe())
    print(f"rows {rows:,}; {counts.packets:,} packets, {counts.calls:,} call frames, file {size / 1e6:.1f} MB")
    print(f"to_pcapng          {pcapng:8.2f} s  {rows / pcapng:10,.0f} rows/s")
    print(f"save (Parquet)     {parquet:8.2f} s  to_pcapng / Parquet = {pcapng / parquet:.2f}x  (information)")
    print(f"memory: frame {frame_bytes / 1e6:.0f} MB; peak while exporting {peak / 1e6:.0f} MB "
          f"= {peak / frame_bytes:.2f}x the frame (target < 2.00x: {'met' if peak < 2 * frame_bytes else 'NOT met'})")


if __name__ == "__main__":
    main()
