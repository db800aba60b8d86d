"""Datasets, splits, DataLoader and default_collate: shapes, determinism for a seed, PyTorch's rules."""

from collections import namedtuple

import numpy as np
import pytest

import tinylearn as tl
from tinylearn.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    ImageDataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from tinylearn.data import transforms as T


def tensor_dataset(n=10):
    X = tl.arange(n * 3, dtype=tl.float32).reshape(n, 3)
    y = tl.arange(n)
    return TensorDataset(X, y)


class Squares(Dataset):
    """A plain map-style dataset (no batch fast path): sample i is a dict with nested fields."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "pair": (i, float(i) ** 2), "name": f"s{i}"}


# ------------------------------------------------------------------------- datasets


def test_tensor_dataset_items_and_length():
    ds = tensor_dataset(5)
    assert len(ds) == 5
    x, y = ds[2]
    assert x.tolist() == [6.0, 7.0, 8.0] and y.item() == 2
    assert ds[-1][1].item() == 4
    with pytest.raises(IndexError, match="out of range"):
        ds[5]


def test_tensor_dataset_accepts_numpy_and_checks_first_dimension():
    ds = TensorDataset(np.zeros((4, 2), np.float32), np.arange(4))
    assert isinstance(ds[0][0], tl.Tensor)
    with pytest.raises(ValueError, match=r"same first dimension.*\(100, 2\), \(99,\)"):
        TensorDataset(tl.zeros(100, 2), tl.zeros(99))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_and_concat():
    ds = tensor_dataset(6)
    sub = Subset(ds, [4, 0, 2])
    assert len(sub) == 3 and [sub[i][1].item() for i in range(3)] == [4, 0, 2]
    both = ConcatDataset([sub, tensor_dataset(2)])
    assert len(both) == 5
    assert [both[i][1].item() for i in range(5)] == [4, 0, 2, 0, 1]
    assert both[-1][1].item() == 1
    assert len(ds + ds) == 12
    with pytest.raises(IndexError):
        both[5]


def test_random_split_lengths_and_fractions():
    ds = tensor_dataset(11)
    parts = random_split(ds, [0.8, 0.1, 0.1], generator=tl.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [9, 1, 1]  # floor 8, 1, 1; the leftover goes to the first
    seen = sorted(i for p in parts for i in p.indices)
    assert seen == list(range(11))
    parts = random_split(ds, [5, 6], generator=tl.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [5, 6]
    with pytest.raises(ValueError, match="add up to 10"):
        random_split(ds, [5, 5])


def test_random_split_is_deterministic_for_a_seed():
    ds = tensor_dataset(20)

    def split(seed):
        return [p.indices for p in random_split(ds, [0.5, 0.5], generator=tl.Generator().manual_seed(seed))]

    assert split(3) == split(3)
    assert split(3) != split(4)
    tl.manual_seed(7)
    first = [p.indices for p in random_split(ds, [10, 10])]
    tl.manual_seed(7)
    assert [p.indices for p in random_split(ds, [10, 10])] == first


# ------------------------------------------------------------------------- loader


def test_len_and_drop_last():
    ds = tensor_dataset(10)
    sizes = [len(y) for _, y in DataLoader(ds, batch_size=4)]
    assert sizes == [4, 4, 2] and len(DataLoader(ds, batch_size=4)) == 3
    sizes = [len(y) for _, y in DataLoader(ds, batch_size=4, drop_last=True)]
    assert sizes == [4, 4] and len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)


def test_no_shuffle_keeps_order():
    labels = np.concatenate([y.numpy() for _, y in DataLoader(tensor_dataset(10), batch_size=3)])
    assert labels.tolist() == list(range(10))


def epoch_orders(loader, epochs=2):
    return [np.concatenate([y.numpy() for _, y in loader]).tolist() for _ in range(epochs)]


def test_shuffle_is_deterministic_for_a_seed():
    ds = tensor_dataset(50)
    a = epoch_orders(DataLoader(ds, batch_size=8, shuffle=True, generator=tl.Generator().manual_seed(1)))
    b = epoch_orders(DataLoader(ds, batch_size=8, shuffle=True, generator=tl.Generator().manual_seed(1)))
    c = epoch_orders(DataLoader(ds, batch_size=8, shuffle=True, generator=tl.Generator().manual_seed(2)))
    assert a == b and a != c
    assert a[0] != a[1], "each epoch draws a new order"
    assert sorted(a[0]) == list(range(50)), "every sample exactly once per epoch"


def test_shuffle_uses_the_global_generator():
    loader = DataLoader(tensor_dataset(30), batch_size=7, shuffle=True)
    tl.manual_seed(123)
    first = epoch_orders(loader, 1)
    tl.manual_seed(123)
    assert epoch_orders(loader, 1) == first


def test_fast_path_equals_per_sample_collate():
    ds = tensor_dataset(13)
    gen = tl.Generator
    fast = list(DataLoader(ds, batch_size=5, shuffle=True, generator=gen().manual_seed(0)))
    slow = list(
        DataLoader(ds, batch_size=5, shuffle=True, generator=gen().manual_seed(0), collate_fn=default_collate)
    )
    assert len(fast) == len(slow) == 3
    for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
        assert fx.shape == sx.shape and fx.dtype == sx.dtype and tl.equal(fx, sx) and tl.equal(fy, sy)
    # a Subset (as random_split returns) keeps the fast path and the same values
    sub = Subset(ds, [3, 1, 4, 1, 5])
    ((x, y),) = DataLoader(sub, batch_size=5)
    assert y.tolist() == [3, 1, 4, 1, 5] and tl.equal(x[0], ds[3][0])


def test_image_dataset_fast_path_with_transform_equals_per_sample():
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (9, 6, 6), dtype=np.uint8), np.arange(9) % 3
    ds = ImageDataset(images, labels, transform=T.Compose([T.ToTensor(), T.Normalize(0.5, 0.25)]))
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(ds, batch_size=4, collate_fn=default_collate))
    for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
        assert fx.shape == sx.shape == (len(fy), 1, 6, 6)
        np.testing.assert_allclose(fx.numpy(), sx.numpy(), rtol=0, atol=1e-6)
        assert tl.equal(fy, sy)
    raw = next(iter(DataLoader(ImageDataset(images, labels), batch_size=9)))
    assert raw[0].dtype == tl.uint8 and np.array_equal(raw[0].numpy(), images)


def test_dataset_without_fast_path_and_nested_collate():
    batch = next(iter(DataLoader(Squares(5), batch_size=3)))
    assert set(batch) == {"x", "pair", "name"}
    assert batch["x"].shape == (3, 2) and batch["x"].dtype == tl.float32
    ints, floats = batch["pair"]  # tuples collate to a list of fields, as in PyTorch
    assert ints.dtype == tl.int64 and ints.tolist() == [0, 1, 2]
    assert floats.dtype == tl.float64 and floats.tolist() == [0.0, 1.0, 4.0]
    assert batch["name"] == ["s0", "s1", "s2"]


def test_default_collate_rules():
    Point = namedtuple("Point", "x y")
    out = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(out, Point) and out.x.tolist() == [1, 3] and out.y.dtype == tl.float64
    out = default_collate([[tl.ones(2), 1], [tl.zeros(2), 0]])
    assert isinstance(out, list) and out[0].shape == (2, 2) and out[1].tolist() == [1, 0]
    out = default_collate([np.int32(3), np.int32(4)])
    assert out.dtype == tl.int32
    assert default_collate([True, False]).dtype == tl.bool
    nested = default_collate([{"a": {"b": (np.zeros(3), 1)}}] * 4)
    assert nested["a"]["b"][0].shape == (4, 3) and nested["a"]["b"][1].tolist() == [1] * 4
    with pytest.raises(RuntimeError, match="equal shapes"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="found"):
        default_collate([object(), object()])


def test_collate_keeps_gradients():
    a, b = tl.ones(2, requires_grad=True), tl.zeros(2, requires_grad=True)
    out = default_collate([a, b])
    out.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_loader_and_transforms_on_a_cuda_device(monkeypatch):
    from tests import fakecupy

    fakecupy.install(monkeypatch)
    ds = TensorDataset(tl.arange(12.0).reshape(6, 2).to("cuda"), tl.arange(6).to("cuda"))
    for collate in (None, default_collate):
        x, y = next(iter(DataLoader(ds, batch_size=4, shuffle=True, collate_fn=collate)))
        assert x.device.type == "cuda" and y.device.type == "cuda" and x.shape == (4, 2)
    image = tl.rand(3, 8, 8).to("cuda")
    out = T.Compose([T.RandomCrop(6, padding=1), T.RandomHorizontalFlip(), T.Normalize(0.5, 0.5)])(image)
    assert out.device.type == "cuda" and out.shape == (3, 6, 6)
