"""A lab network built in a real Jupyter kernel is gone when the kernel is killed (issue 12).

A ``python3`` kernel (ipykernel, started with ``jupyter_client``, importing this checkout) builds
``netlab.two_lans()``, makes sockets on its hosts and reports the agent's pid and the lab's namespace
inodes; the kernel is then killed with SIGKILL (no ``atexit``, no ``close()``), as a hung kernel is
killed by JupyterLab. The agent must exit within a few seconds, and no process, descriptor or mount
may still refer to any of the lab's namespaces; the machine's own interfaces are as before. Skipped
(with the reason) where no lab network can be built, failed instead under ``GSOCKLAB_REQUIRE_NETLAB=1``.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from netlab_support import agent_gone, holders, lab_namespaces, root_interfaces

from gsocklab import netlab

jupyter_manager = pytest.importorskip("jupyter_client.manager")

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CELL = r"""
import json, os
from gsocklab import Gio, netlab
net = netlab.two_lans()
F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
kept = [net.host(name).socket(F.IPV4, T.DATAGRAM, P.UDP) for name in ("h1", "h3")]
kept[1].bind(Gio.InetSocketAddress.new(Gio.InetAddress.new_any(F.IPV4), 5000), True)
kept[1].join_multicast_group(Gio.InetAddress.new_from_string("239.90.0.1"), False, "eth0")
print("RESULT " + json.dumps({"pid": net.pid, "kernel": os.getpid()}))
"""


def _run(client: Any, code: str, timeout: float = 60) -> str:
    """Execute ``code`` in the kernel; what it printed (fails on an error)."""
    msg_id = client.execute(code)
    out = []
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            pytest.fail(f"the cell raised: {content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out)


def test_killing_the_kernel_ends_the_lab() -> None:
    support = netlab.probe()
    if support.mode is None:
        if os.environ.get("GSOCKLAB_REQUIRE_NETLAB") == "1":
            pytest.fail(f"GSOCKLAB_REQUIRE_NETLAB=1 but no lab network here: {support.reason}")
        pytest.skip(f"no lab network on this machine: {support.reason}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("JPY_PARENT_PID", None)
    interfaces = root_interfaces()
    manager, client = jupyter_manager.start_new_kernel(kernel_name="python3", startup_timeout=60, env=env)
    try:
        printed = _run(client, CELL)
        said = json.loads(printed.split("RESULT ", 1)[1])
        lab = lab_namespaces(said["pid"])
        assert len(lab["net"]) >= 6  # fabric, 4 hosts and a router at least
        assert root_interfaces() == interfaces
    finally:
        client.stop_channels()
        manager.signal_kernel(signal.SIGKILL)  # no atexit, no close()
        manager.shutdown_kernel(now=True)  # (reaps it, cleans its connection files)
    assert agent_gone(said["pid"], 10), "the agent outlived the killed kernel"
    assert holders(lab) == []
    assert root_interfaces() == interfaces
