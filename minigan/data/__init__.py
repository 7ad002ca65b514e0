"""Data: the IDX format, the MNIST dataset (found, verified, downloaded), and DataLoader."""
from minigan.data.idx import read_idx, write_idx
from minigan.data.loader import DataLoader
from minigan.data.mnist import MNIST, ChecksumError, DataNotFoundError
from minigan.data.subset import Subset

__all__ = ["MNIST", "DataLoader", "read_idx", "write_idx", "ChecksumError", "DataNotFoundError",
           "Subset"]
