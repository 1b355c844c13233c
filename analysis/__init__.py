"""Python side of ssldyn: read its HDF5 stores (store) and report what they hold against
theory (report: figures, CSV and one HTML page; `python3 -m analysis.report --help`)."""
