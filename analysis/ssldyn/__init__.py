"""Python side of ssldyn: read its HDF5 stores (store) and report what they hold against
theory (report: figures, CSV and one HTML page; `python3 -m ssldyn.report --help`).

    import ssldyn
    with ssldyn.open("results/quickstart.h5") as store:
        sweep = store.sweep("quickstart")
        table = sweep.to_dataframe()                 # pandas: one row per run
        loss = sweep.series("loss")                  # runs x records, with t
        flow = sweep.series("loss", theory=True)     # the closed-form flow's, at the same t
        some = sweep.where("k in (2, 4) and loss == 'contrastive'")   # `ssldyn query --where`
        data = some.to_xarray()
"""

from .store import Series, Store, StoreError, Sweep

__all__ = ["open", "Series", "Store", "StoreError", "Sweep"]


def open(path):  # noqa: A001  (ssldyn.open, as h5py.File or xarray.open_dataset)
    """The store at path (a Store; a context manager that closes the file)."""
    return Store(path)
