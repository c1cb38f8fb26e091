"""``Gio.Credentials``: a process's pid, uid and gid (Linux ``struct ucred``)."""

from __future__ import annotations

import os
import struct
from typing import Final

from ._enums import CredentialsType, IOErrorEnum
from ._errors import new_io_error
from ._gobject import Object

__all__ = ["UCRED", "Credentials"]

UCRED: Final = struct.Struct("iII")  # pid_t pid; uid_t uid; gid_t gid
_INVALID_ID: Final = 0xFFFFFFFF  # (uid_t) -1


class Credentials(Object):
    """Credentials of a process (``GCredentials``), Linux ``ucred`` flavour.

    ``Credentials()`` describes the calling process; ``Socket.get_credentials()`` returns
    the peer's. The kernel reports ``pid=0, uid=-1, gid=-1`` for peers it knows nothing of
    (TCP, UDP); the getters then fail with ``INVALID_DATA``, as in GLib.
    """

    __slots__ = ("_gid", "_pid", "_uid")

    def __init__(self) -> None:
        self._pid, self._uid, self._gid = os.getpid(), os.geteuid(), os.getegid()

    @classmethod
    def new(cls) -> Credentials:
        """Credentials of the current process."""
        return cls()

    @classmethod
    def _from_ucred(cls, data: bytes) -> Credentials:
        creds = cls.__new__(cls)
        creds._pid, creds._uid, creds._gid = UCRED.unpack(data)
        return creds

    def _check_valid(self) -> None:
        if self._pid == 0 or self._uid == _INVALID_ID or self._gid == _INVALID_ID:
            raise new_io_error(IOErrorEnum.INVALID_DATA, "GCredentials contains invalid data")

    def get_unix_pid(self) -> int:
        """The process id; ``INVALID_DATA`` if the kernel did not report a valid peer."""
        self._check_valid()
        return self._pid

    def get_unix_user(self) -> int:
        """The user id; ``INVALID_DATA`` if the kernel did not report a valid peer."""
        self._check_valid()
        return self._uid

    def set_unix_user(self, uid: int) -> bool:
        """Set the user id (only the value held here changes)."""
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise TypeError(f"uid must be an int, not {type(uid).__name__}")
        if not 0 <= uid < _INVALID_ID:
            raise OverflowError(f"uid {uid} is out of range")
        self._uid = uid
        return True

    def is_same_user(self, other_credentials: Credentials) -> bool:
        """Whether both describe the same, valid, user."""
        if not isinstance(other_credentials, Credentials):
            raise TypeError("other_credentials must be a Gio.Credentials")
        return self._uid != _INVALID_ID and self._uid == other_credentials._uid

    def get_native(self, native_type: CredentialsType) -> bytes:
        """The native ``struct ucred`` as bytes (only ``LINUX_UCRED`` is supported)."""
        self._check_type(native_type)
        return UCRED.pack(self._pid, self._uid, self._gid)

    def set_native(self, native_type: CredentialsType, native: bytes) -> None:
        """Set from a native ``struct ucred``."""
        self._check_type(native_type)
        self._pid, self._uid, self._gid = UCRED.unpack(bytes(native))

    @staticmethod
    def _check_type(native_type: int) -> None:
        if native_type != CredentialsType.LINUX_UCRED:
            raise new_io_error(
                IOErrorEnum.NOT_SUPPORTED,
                f"Credentials of type {native_type!r} are not supported here; use CredentialsType.LINUX_UCRED",
            )

    def to_string(self) -> str:
        """GLib's text form: ``GCredentials:linux-ucred:pid=1,uid=0,gid=0`` (-1 fields left out)."""
        fields = [f"pid={self._pid}"] if self._pid != -1 else []
        fields += [f"{name}={value}" for name, value in (("uid", self._uid), ("gid", self._gid))
                   if value != _INVALID_ID]
        return "GCredentials:linux-ucred:" + ",".join(fields)

    def __repr__(self) -> str:
        return f"<Gio.Credentials {self.to_string()}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self._pid, self._uid, self._gid) == (other._pid, other._uid, other._gid)

    def __hash__(self) -> int:
        return hash((self._pid, self._uid, self._gid))
