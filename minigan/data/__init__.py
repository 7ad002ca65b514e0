"""Data: MNIST and Fashion-MNIST (verified IDX), ImageFolder, TensorDataset, transforms, DataLoader."""
from minigan.data import transforms
from minigan.data.idx import read_idx, write_idx
from minigan.data.image_folder import ImageFolder
from minigan.data.loader import DataLoader
from minigan.data.mnist import MNIST, ChecksumError, DataNotFoundError, FashionMNIST
from minigan.data.subset import Subset
from minigan.data.tensor_dataset import TensorDataset

__all__ = ["MNIST", "FashionMNIST", "ImageFolder", "TensorDataset", "DataLoader", "Subset",
           "transforms", "read_idx", "write_idx", "ChecksumError", "DataNotFoundError"]
