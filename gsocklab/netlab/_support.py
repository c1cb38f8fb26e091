"""Can this machine run a lab network, and how: as root, or in a user namespace?

`probe` tries what the agent needs (``unshare`` into new network and mount namespaces, and
for an unprivileged user a new user namespace too) and says, when nothing works, exactly
why: the command's own error and the kernel settings that usually cause it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Final, NamedTuple

__all__ = ["LAUNCHERS", "NetlabUnavailable", "Support", "probe"]

#: How the agent is started in each mode (the agent's argv follows).
LAUNCHERS: Final = {
    "root": ("unshare", "--net", "--mount", "--propagation", "private", "--"),
    "user": ("unshare", "--user", "--map-root-user", "--net", "--mount", "--propagation", "private", "--"),
}

_SETTINGS: Final = ("/proc/sys/user/max_user_namespaces", "/proc/sys/kernel/unprivileged_userns_clone",
                    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns")


class NetlabUnavailable(RuntimeError):
    """This machine cannot build a lab network; the message says why."""


class Support(NamedTuple):
    """What `probe` found: the mode to use (``"root"``/``"user"``, ``None``: none) and why."""

    mode: str | None
    modes: tuple[str, ...]
    reason: str


def _try(mode: str) -> str | None:
    """``None`` if ``mode``'s launcher works here, else its error."""
    argv = [*LAUNCHERS[mode], "true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`{' '.join(argv)}`: {exc}"
    if done.returncode:
        return f"`{' '.join(argv)}` failed: {done.stderr.strip() or f'exit status {done.returncode}'}"
    return None


def _settings() -> str:
    found = []
    for path in _SETTINGS:
        try:
            found.append(f"{path[len('/proc/sys/'):].replace('/', '.')} = {Path(path).read_text().strip()}")
        except OSError:
            continue
    return "; ".join(found)


@functools.cache
def probe() -> Support:
    """Which ways of building a lab work on this machine (tried once per process)."""
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    if missing:
        return Support(None, (), f"{' and '.join(missing)} not found: install util-linux and iproute2 "
                                 "(Debian: apt-get install util-linux iproute2)")
    errors = {}
    wanted = ("root", "user") if os.geteuid() == 0 else ("user",)
    for mode in wanted:
        error = _try(mode)
        if error is not None:
            errors[mode] = error
    modes = tuple(mode for mode in wanted if mode not in errors)
    if modes:
        return Support(modes[0], modes, f"runs {'as root' if modes[0] == 'root' else 'in a user namespace'}")
    reason = "; ".join(errors.values())
    if "user" in errors:
        settings = _settings()
        reason += (". Unprivileged user namespaces look disabled on this kernel"
                   + (f" ({settings})" if settings else "") +
                   ": run as root, or enable them (sysctl kernel.unprivileged_userns_clone=1, "
                   "user.max_user_namespaces > 0, or an AppArmor profile allowing userns)")
    return Support(None, (), reason)
