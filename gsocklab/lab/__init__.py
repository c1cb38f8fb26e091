"""Widget panels for JupyterLab: drive sockets and watch their traffic live.

``import gsocklab.lab`` imports ipywidgets (``import gsocklab`` alone does not)::

    from gsocklab.lab import Lab, SocketPanel, TrafficView
    lab = Lab()            # two UDP sockets with panels, and a live view of what they do
    lab                    # display it; click Bind, Send, Receive …

The threading model (``docs/panels.md``): buttons run the real ``Gio.Socket`` calls on a
panel's own worker thread; a pump thread per view redraws a few times a second, only when
something changed, in one message; the recorder never touches a widget.
"""

from ._lab import Lab
from ._multicast_lab import MulticastLab
from ._multicast_setup import MulticastSetup
from ._socket_panel import SocketPanel, parse_address
from ._traffic_view import TrafficView

__all__ = ["Lab", "MulticastLab", "MulticastSetup", "SocketPanel", "TrafficView", "parse_address"]
