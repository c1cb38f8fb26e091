"""Recording socket traffic into pandas DataFrames.

`Recorder` observes gsocklab sockets through the socket layer's observer hook
(`gsocklab._observe`) and gives one row per event, with the columns and dtypes of
`TRAFFIC_SCHEMA` (the same for an empty recording)::

    from gsocklab.record import Recorder

    with Recorder() as rec:
        ...  # socket calls, in any thread
    rec.df.groupby(["socket", "direction"], observed=True)["nbytes"].sum()

``rec.save(path)`` writes Parquet when pyarrow is installed and otherwise a pickle of the
frame (load only pickles you trust); ``Recorder.load(path)`` reads either.

This package needs pandas (and so numpy); ``import gsocklab`` alone does not import it.
"""

from ._recorder import Recorder
from ._schema import TRAFFIC_SCHEMA

__all__ = ["TRAFFIC_SCHEMA", "Recorder"]
