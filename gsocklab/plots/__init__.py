"""Pictures of a recording: sequence diagrams, call timelines, I/O graphs, batch and delivery views.

Each function takes a `gsocklab.record.Recorder` or a recording DataFrame (``rec.df``), plus
filters, and returns a `Picture`: it shows itself in JupyterLab (and in any front end that
renders SVG or HTML), and has ``.svg``, ``.data`` (the DataFrame drawn) and ``.save(path)``::

    from gsocklab import plots
    plots.sequence(rec)                 # who sent what to whom, waits, errors, losses
    plots.timeline(rec)                 # what each call spent its time on, by mode
    plots.io_graph(rec, interval=0.1)   # messages and bytes per interval, per socket
    plots.batches(rec)                  # messages asked vs moved per batched call
    plots.delivery(rec)                 # datagrams per destination x receiving socket

The SVG is written by hand with the standard library: no JavaScript, no CDN, nothing to
install beyond pandas (which the recorder needs anyway), and every value that came from a
socket is escaped. The class names and ``data-*`` attributes of the marks are a stable
contract, documented on each function and in ``docs/pictures.md``.
"""

from ._batches import batches
from ._delivery import delivery
from ._io_graph import io_graph
from ._picture import Picture, SequencePicture
from ._sequence import sequence
from ._timeline import timeline

__all__ = ["Picture", "SequencePicture", "batches", "delivery", "io_graph", "sequence", "timeline"]
