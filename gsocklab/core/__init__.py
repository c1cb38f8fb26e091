"""The core: GLib's ``Gio.Socket`` and the helper types it needs, in pure Python.

Everything here is private (``_``-modules); the public names are reached through
``gsocklab.Gio`` and ``gsocklab.GLib``. The parts, from the bottom up:

* pure logic, no I/O: ``_enums``, ``_errors`` (the one ``OSError`` → ``GLib.Error``
  translation), ``_address``, ``_args``, ``_results``, ``_messages``, ``_wait`` (timeout
  arithmetic and the one ``poll()``), ``_lifetime`` (the in-flight count that keeps a
  descriptor alive while any thread uses it);
* the socket, split by topic over one base class: ``_socket_base`` (state, checks, the wait
  loop), ``_socket_wait``, ``_socket_messages``, ``_socket_options``, ``_source`` (asyncio
  sources and ``*_async``), and ``_socket`` (the only module that makes socket system
  calls), which puts them together as ``Gio.Socket``;
* around it: ``_cancellable``, ``_control`` and ``_mmsg`` (control messages, native
  batches), ``_connection``, ``_credentials``;
* ``_observe``: the observer hook through which `gsocklab.record` records calls.
"""
