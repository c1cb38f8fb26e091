"""Message-level I/O of `Socket`: vectors, control messages and batches, as a mixin.

``send_message``/``receive_message`` go through Python's ``sendmsg``/``recvmsg_into``;
``send_messages``/``receive_messages`` through real ``sendmmsg``/``recvmmsg`` (`_mmsg`),
with GLib's loop around them: clamp to ``IOV_MAX``, wait between calls as the mode says,
and return a partial count rather than an error once at least one message has moved. Where
the C library has no batched calls, GLib's one-message-at-a-time fallback is used. The
system calls themselves are `Socket` primitives (``_sendmsg``, ``_recvmsg_into``, ``_mmsg``).
"""

from __future__ import annotations

import errno
import socket as _socket
import sys
import time
from typing import TYPE_CHECKING, Any

from ._args import INT_MAX, INT_MIN, check_cancellable, cint_arg, int_arg, os_sockaddr
from ._batch_layout import AVAILABLE as SEND_BATCH
from ._batch_layout import ReceiveBatch, SendBatch
from ._enums import IOCondition, IOErrorEnum, PollableReturn, SocketType
from ._errors import Error, from_errno, from_oserror, new_io_error
from ._gobject import Object
from ._messages import CONTROLS_SEEN, InputMessage, OutputMessage, input_vectors, output_vectors
from ._mmsg import (
    CONTROL_BUFFER,
    IOV_MAX,
    MMSGHDR_SIZE,
    RECVMMSG,
    SENDMMSG,
    SOCKADDR_STORAGE,
    InputBatch,
    OutputBatch,
    decode_sockaddr,
    parse_cmsgs,
)
from ._results import ReceiveMessageResult
from ._socket_base import SocketBase, hot_path, in_flight, remember

if TYPE_CHECKING:
    from ._address import SocketAddress
    from ._cancellable import Cancellable
    from ._control import SocketControlMessage

__all__ = ["DatagramBased", "SocketMessagesMixin"]

_IN, _OUT = IOCondition.IN, IOCondition.OUT
_MESSAGE_IN, _MESSAGE_OUT = "Error receiving message: ", "Error sending message: "
_MSG_CMSG_CLOEXEC = int(getattr(_socket, "MSG_CMSG_CLOEXEC", 0))
_new_tuple = tuple.__new__


def _message_list(messages: object, kind: type) -> list[Any]:
    if isinstance(messages, list):
        return messages
    if isinstance(messages, (tuple, range)) or hasattr(messages, "__iter__"):
        return list(messages)
    raise TypeError(f"messages must be a list of Gio.{kind.__name__}, not {type(messages).__name__}")


class SocketMessagesMixin(SocketBase):
    """``send_message``, ``receive_message``, ``send_messages`` and ``receive_messages``."""

    if TYPE_CHECKING:
        def _source_address(self, source: Any) -> SocketAddress | None: ...
        def _sendmsg(self, buffers: list[Any], ancdata: list[Any], flags: int, native: Any) -> int: ...
        def _recvmsg_into(self, buffers: list[Any], ancbufsize: int, flags: int) -> Any: ...
        def _mmsg(self, function: Any, base: int, count: int, flags: int) -> int: ...

    # -- one message ----------------------------------------------------------------------

    @in_flight
    def _send_message(self, address: SocketAddress | None, vectors: Any, messages: Any, flags: int,
                      timeout_us: int, cancellable: Cancellable | None) -> int | None:
        """``g_socket_send_message_with_timeout``; ``None`` when it would block and may not wait."""
        vecs = output_vectors(vectors)
        if sum(v.size for v in vecs) > sys.maxsize:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "Unable to send message: Message vectors too large")
        flags = cint_arg(flags, "flags")
        check_cancellable(cancellable)
        if not self._usable or cancellable is not None:
            self._check_io(cancellable)
        from ._control import serialize_control_messages

        ancdata = serialize_control_messages(messages) if messages else []
        try:
            native = None if address is None else os_sockaddr(self._family, address, mapped_ok=True)
        except OSError as exc:
            raise from_oserror(exc, _MESSAGE_OUT) from exc
        # No vectors: GLib sends one NUL byte (the carrier of control messages).
        buffers: list[Any] = [memoryview(v._memory())[:v.size] for v in vecs] or [b"\0"]
        try:
            return self._sendmsg(buffers, ancdata, flags, native)
        except BlockingIOError:
            if timeout_us == 0:
                return None
        except OSError as exc:
            raise from_oserror(exc, _MESSAGE_OUT) from exc
        return self._retry(  # type: ignore[no-any-return]
            _OUT, timeout_us, cancellable, _MESSAGE_OUT, self._sendmsg, buffers, ancdata, flags, native)

    def send_message(self, address: SocketAddress | None, vectors: Any,
                     messages: list[SocketControlMessage] | None, flags: int,
                     cancellable: Cancellable | None = None) -> int:
        """Send one message gathered from ``vectors`` (OutputVectors or bytes-like objects).

        ``address`` ``None`` sends to the connected peer; ``messages`` are control messages
        (``UnixFDMessage``, ``UnixCredentialsMessage``). No vectors sends a single NUL byte,
        as GLib does. Returns the bytes sent (a stream socket may send fewer). Blocking:
        waits for room (``TIMED_OUT`` after the socket timeout). Non-blocking:
        ``WOULD_BLOCK``. Cancelled: ``CANCELLED``. Errors: "Error sending message: …".
        """
        sent = self._send_message(address, vectors, messages, flags, -1 if self._blocking else 0, cancellable)
        if sent is None:
            raise from_errno(errno.EWOULDBLOCK)
        return sent

    def send_message_with_timeout(self, address: SocketAddress | None, vectors: Any,
                                  messages: list[SocketControlMessage] | None, flags: int, timeout_us: int,
                                  cancellable: Cancellable | None = None) -> tuple[PollableReturn, int]:
        """``send_message`` with an explicit timeout: ``(PollableReturn, bytes_written)``.

        ``timeout_us`` 0 never waits and reports ``(WOULD_BLOCK, 0)`` without raising; -1
        waits as long as the socket timeout allows; a positive value is a deadline for the
        whole call (``TIMED_OUT``). Success is ``(OK, n)``; errors raise.
        """
        return self._send_message_with_timeout(address, vectors, messages, flags, timeout_us, cancellable)

    def _send_message_with_timeout(self, address: SocketAddress | None, vectors: Any,
                                   messages: list[SocketControlMessage] | None, flags: int, timeout_us: int,
                                   cancellable: Cancellable | None = None) -> tuple[PollableReturn, int]:
        timeout_us = int_arg(timeout_us, "timeout_us")
        sent = self._send_message(address, vectors, messages, flags, timeout_us, cancellable)
        if sent is None:
            return PollableReturn.WOULD_BLOCK, 0
        return PollableReturn.OK, sent

    def receive_message(self, vectors: Any, flags: int, cancellable: Cancellable | None = None) -> ReceiveMessageResult:
        """Receive one message into ``vectors``: ``(count, address, control_messages, flags)``.

        ``vectors`` are InputVectors or writable buffers; with none, one byte is received
        and discarded (GLib's case for descriptor passing). ``flags`` in are ``SocketMsgFlags``
        (``PEEK``…); ``flags`` out are the kernel's (``MSG_TRUNC`` when the datagram did not
        fit; on Linux ``MSG_CMSG_CLOEXEC`` too). Received descriptors are close-on-exec.
        Modes as ``receive()``; errors "Error receiving message: …".
        """
        return self._receive_message(vectors, flags, cancellable)

    @in_flight
    def _receive_message(self, vectors: Any, flags: int, cancellable: Cancellable | None) -> ReceiveMessageResult:
        vecs = input_vectors(vectors)
        flags = cint_arg(flags, "flags")
        check_cancellable(cancellable)
        if not self._usable or cancellable is not None:
            self._check_io(cancellable)
        buffers: list[Any] = [memoryview(v._memory())[:v.size] for v in vecs] or [bytearray(1)]
        received, ancdata, msg_flags, source = self._io(
            _IN, -1 if self._blocking else 0, cancellable, _MESSAGE_IN, self._recvmsg_into,
            buffers, CONTROL_BUFFER, flags)
        from ._control import deserialize_ancdata

        controls = deserialize_ancdata(ancdata)
        address = self._source_address(source) if source is not None else None
        return _new_tuple(ReceiveMessageResult, (received, address, controls, msg_flags))

    # -- batches ----------------------------------------------------------------------------

    def _batch_loop(self, function: Any, base: int, count: int, flags: int, timeout_us: int,
                    cancellable: Cancellable | None, condition: int, prefix: str) -> int:
        """GLib's loop around ``sendmmsg``/``recvmmsg``: partial success beats an error."""
        done = 0
        start = time.monotonic() if timeout_us > 0 else 0.0
        while done < count:
            try:
                moved = self._mmsg(function, base + done * MMSGHDR_SIZE, count - done, flags)
            except BlockingIOError:
                if timeout_us == 0:
                    if done:
                        break
                    raise from_errno(errno.EWOULDBLOCK) from None
                try:
                    self._block(condition, timeout_us, start, cancellable)
                except Error:
                    if done:
                        break
                    raise
                continue
            except OSError as exc:
                if done:
                    break
                raise from_oserror(exc, prefix) from exc
            if moved == 0:
                break
            done += moved
        return done

    def _batch_arguments(self, messages: Any, kind: type, flags: int,
                         cancellable: Cancellable | None) -> tuple[list[Any], int]:
        """The checks every batched call makes first (GLib: socket, timeout flag, cancellable)."""
        if type(messages) is not list:
            messages = _message_list(messages, kind)
        if type(flags) is not int or not INT_MIN <= flags <= INT_MAX:
            flags = cint_arg(flags, "flags")
        if not self._usable or cancellable is not None:
            check_cancellable(cancellable)
            self._check_io(cancellable)
        return messages, flags

    @hot_path
    def _send_messages(self, messages: Any, flags: int, timeout_us: int, cancellable: Cancellable | None) -> int:
        """``g_socket_send_messages_with_timeout``.

        A hot path (see `gsocklab.core._socket_base`): its frame keeps the descriptor open,
        which spares the in-flight count on the way of every batch.
        """
        try:
            messages, flags = self._batch_arguments(messages, OutputMessage, flags, cancellable)
            if not messages:
                return 0
            if SENDMMSG is None:
                return self._send_messages_one_by_one(messages, flags, timeout_us, cancellable)
            if len(messages) > IOV_MAX:
                messages = messages[:IOV_MAX]
            try:
                if SEND_BATCH and (not CONTROLS_SEEN[0]
                                   or [m._control_messages for m in messages].count(None) == len(messages)):
                    batch: SendBatch | OutputBatch = SendBatch(messages, self._family, mapped_ok=True)  # laid out now
                else:
                    batch = OutputBatch(messages, self._family, mapped_ok=True)
            except OSError as exc:
                raise from_oserror(exc, _MESSAGE_OUT) from exc
            except AttributeError:
                for message in messages:
                    if not isinstance(message, OutputMessage):
                        raise TypeError(
                            f"messages must be Gio.OutputMessage items, not {type(message).__name__}") from None
                raise
            try:
                sent = self._batch_loop(SENDMMSG, batch.base, len(messages), flags, timeout_us,
                                        cancellable, _OUT, _MESSAGE_OUT)
                lengths = batch.sent(sent)
            finally:
                if type(batch) is SendBatch:
                    batch.release()
            for message, length in zip(messages, lengths):
                message.bytes_sent = length
            return sent
        finally:
            if self._closed:
                self._reap()

    def _send_messages_one_by_one(self, messages: list[OutputMessage], flags: int, timeout_us: int,
                                  cancellable: Cancellable | None) -> int:
        """GLib's fallback without ``sendmmsg``: one ``send_message`` per message."""
        start = time.monotonic()
        for index, message in enumerate(messages):
            wait = timeout_us if index == 0 or timeout_us <= 0 else max(
                timeout_us - int((time.monotonic() - start) * 1e6), 1)
            try:
                sent = self._send_message(message.address, message.vectors, message.control_messages, flags,
                                          wait, cancellable)
                if sent is None:
                    raise from_errno(errno.EWOULDBLOCK)
            except Error:
                if index:
                    return index
                raise
            message.bytes_sent = sent
        return len(messages)

    def send_messages(self, messages: list[OutputMessage], flags: int, cancellable: Cancellable | None = None) -> int:
        """Send several datagrams in one call (``sendmmsg``); return how many were sent.

        Each message's ``bytes_sent`` is set. At most ``IOV_MAX`` (1024) messages per call.
        Blocking: waits until all are sent or the socket timeout passes. Non-blocking: sends
        what fits. Either way an error or timeout after at least one message returns the
        count so far; only with none sent is it raised (``WOULD_BLOCK``, ``TIMED_OUT``,
        ``CANCELLED``, "Error sending message: …", e.g. ``DESTINATION_UNSET``).
        """
        return self._send_messages(messages, flags, -1 if self._blocking else 0, cancellable)

    @hot_path
    def _receive_messages(self, messages: Any, flags: int, timeout_us: int, cancellable: Cancellable | None) -> int:
        """``g_socket_receive_messages_with_timeout`` (a hot path, as `_send_messages`)."""
        try:
            messages, flags = self._batch_arguments(messages, InputMessage, flags, cancellable)
            if not messages:
                return 0
            if RECVMMSG is None:
                return self._receive_messages_one_by_one(messages, flags, timeout_us, cancellable)
            if len(messages) > IOV_MAX:
                messages = messages[:IOV_MAX]
            count = len(messages)
            try:
                if SEND_BATCH and (not CONTROLS_SEEN[0]
                                   or [m._control_messages for m in messages].count(None) == count):
                    batch: ReceiveBatch | InputBatch = ReceiveBatch(messages)  # laid out now, no buffer exported
                else:
                    batch = InputBatch(messages)  # control messages asked for: ctypes buffers, this call only
            except AttributeError:
                for message in messages:
                    if not isinstance(message, InputMessage):
                        raise TypeError(
                            f"messages must be Gio.InputMessage items, not {type(message).__name__}") from None
                raise
            if isinstance(batch, ReceiveBatch):
                try:
                    got = self._batch_loop(RECVMMSG, batch.base, count, flags | _MSG_CMSG_CLOEXEC, timeout_us,
                                           cancellable, _IN, _MESSAGE_IN)
                    batch.finish(messages, got, self._raw_address)
                finally:
                    batch.release()
                return got
            got = self._batch_loop(RECVMMSG, batch.base, count, flags | _MSG_CMSG_CLOEXEC, timeout_us,
                                   cancellable, _IN, _MESSAGE_IN)
            self._finish_with_controls(messages, batch, got)
            return got
        finally:
            if self._closed:
                self._reap()

    def _finish_with_controls(self, messages: list[InputMessage], batch: InputBatch, got: int) -> None:
        """Fill in the results of a batch laid out by `InputBatch`, control messages included."""
        names = batch.names_bytes(got)
        results = batch.results(got)
        for index, (message, (namelen, _, msg_flags, length)) in enumerate(zip(messages, results)):
            message.bytes_received = length
            message.flags = msg_flags
            message.address = self._raw_address(
                names[index * SOCKADDR_STORAGE:index * SOCKADDR_STORAGE + min(namelen, SOCKADDR_STORAGE)]
            ) if namelen else None
        if batch.controls:
            self._fill_control_messages(messages, batch, got)

    def _raw_address(self, raw: bytes) -> SocketAddress | None:
        """The address for a raw source sockaddr, through an 8-entry cache (GLib's)."""
        cache = self._raw_address_cache
        address = cache.get(raw)
        if address is None:
            address = self._source_address(decode_sockaddr(raw))
            remember(cache, raw, address)
        return address

    @staticmethod
    def _fill_control_messages(messages: list[InputMessage], batch: InputBatch, got: int) -> None:
        """Deserialize the control data of the received messages that asked for it."""
        from ._control import deserialize_ancdata

        for index, (_, controllen, _, _) in enumerate(batch.results(got)):
            if index in batch.controls:
                controls = deserialize_ancdata(parse_cmsgs(batch.control(index, controllen))) if controllen else []
                target = messages[index].control_messages
                assert target is not None
                target[:] = controls

    def _receive_messages_one_by_one(self, messages: list[InputMessage], flags: int, timeout_us: int,
                                     cancellable: Cancellable | None) -> int:
        """GLib's fallback without ``recvmmsg``: one ``receive_message`` per message."""
        start = time.monotonic()
        for index, message in enumerate(messages):
            wait = timeout_us if index == 0 or timeout_us <= 0 else max(
                timeout_us - int((time.monotonic() - start) * 1e6), 1)
            buffers: list[Any] = [memoryview(v._memory())[:v.size] for v in message.vectors] or [bytearray(1)]
            try:
                message.flags = flags  # GLib: the call's flags in, the kernel's out
                received, ancdata, message.flags, source = self._io(
                    _IN, wait, cancellable, _MESSAGE_IN, self._recvmsg_into, buffers, CONTROL_BUFFER, flags)
            except Error as exc:
                if index and exc.code in (IOErrorEnum.WOULD_BLOCK, IOErrorEnum.TIMED_OUT):
                    return index
                raise
            from ._control import close_fds_in_ancdata, deserialize_ancdata

            if message.control_messages is not None:
                message.control_messages[:] = deserialize_ancdata(ancdata)
            else:
                close_fds_in_ancdata(ancdata)
            message.address = self._source_address(source) if source is not None else None
            message.bytes_received = received
            if received == 0:
                return index
        return len(messages)

    def receive_messages(self, messages: list[InputMessage], flags: int,
                         cancellable: Cancellable | None = None) -> int:
        """Receive several datagrams in one call (``recvmmsg``); return how many arrived.

        Each received message gets ``address``, ``bytes_received``, ``flags`` (``MSG_TRUNC``
        if it did not fit) and, if asked for, ``control_messages``; later messages keep
        their old values. At most ``IOV_MAX`` (1024) per call. Blocking without a socket
        timeout: waits until **all** messages have arrived (GLib's code, whatever its doc says
        of ``MSG_WAITFORONE``). Blocking with a timeout: returns what arrived when a wait
        times out, ``TIMED_OUT`` if nothing did. Non-blocking: returns what is queued,
        ``WOULD_BLOCK`` if nothing is. Cancelled mid-batch: the count so far, ``CANCELLED``
        if none. After a stream peer closed, ``recvmmsg`` counts every message as a 0-byte
        read, so the whole batch is returned with ``bytes_received`` 0.
        """
        return self._receive_messages(messages, flags, -1 if self._blocking else 0, cancellable)


class DatagramBased(Object):
    """The ``Gio.DatagramBased`` interface, which `Socket` implements.

    Call it as PyGObject code does, ``Gio.DatagramBased.receive_messages(sock, messages,
    flags, timeout, cancellable)``; ``timeout`` is in microseconds: negative blocks, 0 never
    blocks, positive waits at most that long. Only datagram sockets without a socket
    timeout qualify (``NOT_SUPPORTED`` otherwise — raised, where GLib loses the error).
    """

    if TYPE_CHECKING:
        _type: SocketType

        def get_timeout(self) -> int: ...
        def _receive_messages(self, messages: Any, flags: int, timeout_us: int,
                              cancellable: Cancellable | None) -> int: ...
        def _send_messages(self, messages: Any, flags: int, timeout_us: int,
                           cancellable: Cancellable | None) -> int: ...
        def condition_timed_wait(self, condition: IOCondition | int, timeout_us: int,
                                 cancellable: Cancellable | None = None) -> bool: ...

    def _check_datagram_based(self) -> None:
        if self._type in (SocketType.INVALID, SocketType.STREAM):
            raise new_io_error(IOErrorEnum.NOT_SUPPORTED, "Cannot use datagram operations on a non-datagram socket.")
        if self.get_timeout():
            raise new_io_error(IOErrorEnum.NOT_SUPPORTED,
                               "Cannot use datagram operations on a socket with a timeout set.")

    def receive_messages(self, messages: list[InputMessage], flags: int, timeout: int,
                         cancellable: Cancellable | None = None) -> int:
        """``receive_messages`` with an explicit ``timeout`` in microseconds."""
        self._check_datagram_based()
        return self._receive_messages(messages, flags, int_arg(timeout, "timeout"), cancellable)

    def send_messages(self, messages: list[OutputMessage], flags: int, timeout: int,
                      cancellable: Cancellable | None = None) -> int:
        """``send_messages`` with an explicit ``timeout`` in microseconds."""
        self._check_datagram_based()
        return self._send_messages(messages, flags, int_arg(timeout, "timeout"), cancellable)

    def condition_check(self, condition: IOCondition | int) -> IOCondition:
        """The condition now; ``ERR`` when the socket does not qualify, as in GLib."""
        try:
            self._check_datagram_based()
        except Error:
            return IOCondition.ERR
        return type(self).condition_check(self, condition)  # the socket's own, not this one

    def condition_wait(self, condition: IOCondition | int, timeout: int,
                       cancellable: Cancellable | None = None) -> bool:
        """Wait up to ``timeout`` microseconds for ``condition``."""
        self._check_datagram_based()
        return self.condition_timed_wait(condition, int_arg(timeout, "timeout"), cancellable)

    def create_source(self, condition: IOCondition | int, cancellable: Cancellable | None = None) -> Any:
        """A source for ``condition`` (see ``Socket.create_source``)."""
        self._check_datagram_based()
        return type(self).create_source(self, condition, cancellable)  # the socket's own
