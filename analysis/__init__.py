"""Python side of ssldyn: read its HDF5 stores (h5py, numpy) and draw what they hold."""
