"""Image transforms on single images (C, H, W) and batches (N, C, H, W)."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.data.transforms import (
    Compose,
    Lambda,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    ToFloat,
)


def image(c=2, h=4, w=5):
    return nk.arange(c * h * w).float().reshape(c, h, w)


def batch(n=6, c=2, h=4, w=5):
    return nk.arange(n * c * h * w).float().reshape(n, c, h, w)


# -- ToFloat, Normalize ------------------------------------------------------------------------------------------
def test_to_float_scales_uint8_to_unit_range():
    x = nk.tensor([[[0, 51, 255]]], dtype=nk.uint8)
    out = ToFloat()(x)
    assert out.dtype == nk.float32
    np.testing.assert_allclose(out.numpy(), [[[0.0, 0.2, 1.0]]], rtol=1e-6)
    assert ToFloat()(nk.tensor([1.5], dtype=nk.float64)).dtype == nk.float32
    assert ToFloat()(nk.tensor([2.0])).tolist() == [2.0]
    assert ToFloat(scale=0.5)(nk.tensor([4], dtype=nk.int64)).tolist() == [2.0]
    with pytest.raises(TypeError):
        ToFloat()(np.zeros(2))


def test_normalize_per_channel_values():
    x = nk.tensor([[[1.0, 3.0]], [[10.0, 20.0]]])  # (2, 1, 2)
    out = Normalize(mean=(1.0, 10.0), std=(2.0, 5.0))(x)
    assert out.dtype == nk.float32
    np.testing.assert_allclose(out.numpy(), [[[0.0, 1.0]], [[0.0, 2.0]]])
    b = nk.stack([x, x * 2])
    np.testing.assert_allclose(Normalize((1.0, 10.0), (2.0, 5.0))(b).numpy()[1], [[[0.5, 2.5]], [[2.0, 6.0]]])
    np.testing.assert_allclose(Normalize(0.5, 0.5)(nk.ones(3, 2, 2)).numpy(), np.ones((3, 2, 2)))


def test_normalize_keeps_float64_and_is_differentiable():
    x = nk.ones(1, 2, 2, dtype=nk.float64, requires_grad=True)
    out = Normalize((0.5,), (0.25,))(x)
    assert out.dtype == nk.float64
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((1, 2, 2), 4.0))


def test_normalize_errors():
    with pytest.raises(ValueError, match="std evaluated to zero"):
        Normalize((0.0,), (0.0,))
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        Normalize((0.0,), (1.0,))(nk.zeros(1, 2, 2, dtype=nk.uint8))
    with pytest.raises(ValueError, match="2 values for an image with 3 channels"):
        Normalize((0.0, 0.0), (1.0, 1.0))(nk.zeros(3, 2, 2))
    with pytest.raises(ValueError, match=r"\(C, H, W\) or a batch"):
        Normalize((0.0,), (1.0,))(nk.zeros(2, 2))


# -- RandomCrop --------------------------------------------------------------------------------------------------
def windows(padded, h, w):
    """All h×w windows of a (C, H, W) array."""
    return [padded[:, i:i + h, j:j + w] for i in range(padded.shape[1] - h + 1)
            for j in range(padded.shape[2] - w + 1)]


def is_window(out, padded, h, w):
    return any(np.array_equal(out, win) for win in windows(padded, h, w))


def test_random_crop_without_padding_of_full_size_is_identity():
    x = image()
    assert RandomCrop((4, 5))(x).tolist() == x.tolist()


def test_random_crop_single_image_is_a_window_of_the_padded_image():
    nk.manual_seed(0)
    x = image()
    padded = np.pad(x.numpy(), ((0, 0), (2, 2), (2, 2)))
    seen = set()
    for _ in range(30):
        out = RandomCrop((4, 5), padding=2)(x)
        assert out.shape == (2, 4, 5) and out.dtype == nk.float32
        assert is_window(out.numpy(), padded, 4, 5)
        seen.add(out.numpy().tobytes())
    assert len(seen) > 5


def test_random_crop_batch_crops_each_image_independently():
    nk.manual_seed(1)
    x = nk.stack([image()] * 40)
    out = RandomCrop(3, padding=1)(x)
    assert out.shape == (40, 2, 3, 3)
    padded = np.pad(image().numpy(), ((0, 0), (1, 1), (1, 1)))
    for o in out.numpy():
        assert is_window(o, padded, 3, 3)
    assert len({o.tobytes() for o in out.numpy()}) > 5  # not one offset for the whole batch


def test_random_crop_is_reproducible():
    x = batch()
    nk.manual_seed(7)
    a = RandomCrop(3, padding=(1, 2))(x)
    nk.manual_seed(7)
    b = RandomCrop(3, padding=(1, 2))(x)
    assert a.tolist() == b.tolist()


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_random_crop_padding_modes_match_np_pad(mode):
    x = image(1, 3, 3)
    crop = RandomCrop(7, padding=(2, 2, 2, 2), padding_mode=mode, fill=-1)
    out = crop(x)  # crop size == padded size: the whole padded image
    kwargs = {"constant_values": -1} if mode == "constant" else {}
    np.testing.assert_array_equal(out.numpy(), np.pad(x.numpy(), ((0, 0), (2, 2), (2, 2)), mode=mode, **kwargs))


def test_random_crop_asymmetric_padding_order_is_left_top_right_bottom():
    x = nk.ones(1, 2, 2)
    out = RandomCrop((2 + 2 + 4, 2 + 1 + 3), padding=(1, 2, 3, 4))(x)
    expected = np.pad(np.ones((1, 2, 2), np.float32), ((0, 0), (2, 4), (1, 3)))
    np.testing.assert_array_equal(out.numpy(), expected)


def test_random_crop_pad_if_needed_and_errors():
    x = image(1, 2, 2)
    assert RandomCrop(4, pad_if_needed=True)(x).shape == (1, 4, 4)
    with pytest.raises(ValueError, match="Required crop size"):
        RandomCrop(4)(x)
    with pytest.raises(ValueError, match="padding_mode"):
        RandomCrop(2, padding_mode="wrap")
    with pytest.raises(ValueError, match="padding must be"):
        RandomCrop(2, padding=(1, 2, 3))


def test_random_crop_records_autograd():
    x = nk.ones(2, 1, 3, 3, requires_grad=True)
    out = RandomCrop(3, padding=1)(x)
    out.sum().backward()
    assert x.grad.shape == (2, 1, 3, 3)
    assert 4 <= x.grad.sum().item() <= 18  # each crop covers between 4 and 9 of the 9 pixels


# -- flips -------------------------------------------------------------------------------------------------------
def test_horizontal_flip_probabilities_one_and_zero():
    x = image()
    assert RandomHorizontalFlip(p=1.0)(x).tolist() == x.numpy()[..., ::-1].tolist()
    assert RandomHorizontalFlip(p=0.0)(x).tolist() == x.tolist()
    assert RandomVerticalFlip(p=1.0)(x).tolist() == x.numpy()[:, ::-1, :].tolist()
    b = batch()
    assert RandomHorizontalFlip(p=1.0)(b).tolist() == b.numpy()[..., ::-1].tolist()
    with pytest.raises(ValueError, match="probability"):
        RandomHorizontalFlip(p=1.5)


def test_flip_batch_flips_each_image_independently():
    nk.manual_seed(3)
    b = batch(n=64)
    out = RandomHorizontalFlip()(b).numpy()
    flipped = [np.array_equal(o, x[..., ::-1]) for o, x in zip(out, b.numpy())]
    kept = [np.array_equal(o, x) for o, x in zip(out, b.numpy())]
    assert all(f != k for f, k in zip(flipped, kept))
    assert 15 < sum(flipped) < 49


def test_flip_uses_the_global_generator():
    b = batch(n=16)
    nk.manual_seed(11)
    a = RandomVerticalFlip()(b)
    nk.manual_seed(11)
    assert RandomVerticalFlip()(b).tolist() == a.tolist()


# -- Compose, Lambda ---------------------------------------------------------------------------------------------
def test_compose_applies_in_order_and_reports_batch_support():
    pipeline = Compose([ToFloat(), Normalize((0.5,), (0.5,)), RandomHorizontalFlip(p=1.0)])
    x = nk.tensor([[[0, 255]]], dtype=nk.uint8)
    np.testing.assert_allclose(pipeline(x).numpy(), [[[1.0, -1.0]]])
    assert pipeline.supports_batches
    assert not Compose([ToFloat(), lambda t: t]).supports_batches
    assert Compose([Lambda(lambda t: t * 2, supports_batches=True)]).supports_batches
    assert "Normalize" in repr(pipeline)
    with pytest.raises(TypeError):
        Lambda(3)
