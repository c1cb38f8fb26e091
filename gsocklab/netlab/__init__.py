"""Virtual hosts on one machine, for exploring multicast (and more) across real networks.

``Network`` builds hosts, each its own network namespace, on LAN segments (bridges,
IGMP/MLD snooping optional), and multicast relay routers between segments; ``net.host("h1").socket(...)``
returns an ordinary ``Gio.Socket`` living on that host, so one notebook drives every host and
one ``Recorder`` records them all. Everything lives inside namespaces of the lab's own agent
process: nothing is linked to this machine's network, and it all goes when the network is
closed or this process exits. ``probe()`` says whether (and how) this machine can do it.

    from gsocklab import Gio, netlab
    with netlab.two_lans() as net:
        sender = net.host("h1").socket(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM,
                                       Gio.SocketProtocol.UDP)
"""

from ._network import Host, Interface, Network, NetworkError, Router, one_lan, two_lans
from ._support import NetlabUnavailable, Support, probe

__all__ = ["Host", "Interface", "NetlabUnavailable", "Network", "NetworkError", "Router", "Support",
           "one_lan", "probe", "two_lans"]
