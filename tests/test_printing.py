"""Tensor text form: exact strings as PyTorch prints them.

The expected strings were produced by PyTorch 2.13 (``repr`` of the same values, ``torch.`` read as
``nnkit.``) and pasted here, so these tests need no torch; ``test_random_parity_with_torch`` compares afresh
when torch imports.
"""

import numpy as np
import pytest

from nnkit import printing
from nnkit.printing import format_tensor, get_printoptions, printoptions, set_printoptions


@pytest.fixture(autouse=True)
def default_printoptions():
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")


# (values, dtype name, caller suffixes, print options, expected text)
CASES = [
    pytest.param([4.7292, -1.0159, 3.0323], "float32", ["grad_fn=<AddBackward0>"], {},
                 "tensor([ 4.7292, -1.0159,  3.0323], grad_fn=<AddBackward0>)",
                 id="doc_add"),
    pytest.param([[0.0828, 0.2673, 0.0525], [0.0828, 0.2673, 0.0525]], "float32", [], {},
                 "tensor([[0.0828, 0.2673, 0.0525],\n"
                 "        [0.0828, 0.2673, 0.0525]])",
                 id="doc_rows"),
    pytest.param(np.ones(5), "float32", [], {},
                 "tensor([1., 1., 1., 1., 1.])",
                 id="doc_ones"),
    pytest.param([True, True], "bool", [], {},
                 "tensor([True, True])",
                 id="doc_bool"),
    pytest.param(0.6916999816894531, "float32", ["grad_fn=<BinaryCrossEntropyWithLogitsBackward0>"], {},
                 "tensor(0.6917, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)",
                 id="doc_scalar_bce"),
    pytest.param([-2.4730, 3.6490, -2.1402, 0.1738, -0.0752], "float32", [], {},
                 "tensor([-2.4730,  3.6490, -2.1402,  0.1738, -0.0752])",
                 id="doc_mixed_sign"),
    pytest.param([1.0, 2.0], "float32", ["requires_grad=True"], {},
                 "tensor([1., 2.], requires_grad=True)",
                 id="doc_requires_grad"),
    pytest.param([1.0, 2.0], "float64", [], {},
                 "tensor([1., 2.], dtype=nnkit.float64)",
                 id="float64"),
    pytest.param([0.5, -1.25], "float64", ["requires_grad=True"], {},
                 "tensor([ 0.5000, -1.2500], dtype=nnkit.float64, requires_grad=True)",
                 id="float64_requires_grad"),
    pytest.param([0.1, 2.5, -3.0], "float16", [], {},
                 "tensor([ 0.1000,  2.5000, -3.0000], dtype=nnkit.float16)",
                 id="float16"),
    pytest.param([1.0, 2.0], "float16", [], {},
                 "tensor([1., 2.], dtype=nnkit.float16)",
                 id="float16_int_mode"),
    pytest.param(np.arange(10), "int64", [], {},
                 "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])",
                 id="int64"),
    pytest.param([[1, -20], [300, 4]], "int64", [], {},
                 "tensor([[  1, -20],\n"
                 "        [300,   4]])",
                 id="int64_padding"),
    pytest.param([1, 2, 3], "int32", [], {},
                 "tensor([1, 2, 3], dtype=nnkit.int32)",
                 id="int32"),
    pytest.param([-7, 8], "int16", [], {},
                 "tensor([-7,  8], dtype=nnkit.int16)",
                 id="int16"),
    pytest.param([-128, 0, 127], "int8", [], {},
                 "tensor([-128,    0,  127], dtype=nnkit.int8)",
                 id="int8"),
    pytest.param([0, 255, 7], "uint8", [], {},
                 "tensor([  0, 255,   7], dtype=nnkit.uint8)",
                 id="uint8"),
    pytest.param([[True, False], [False, True]], "bool", [], {},
                 "tensor([[ True, False],\n"
                 "        [False,  True]])",
                 id="bool_padding"),
    pytest.param([-9223372036854775808, 1], "int64", [], {},
                 "tensor([-9223372036854775808,                    1])",
                 id="int64_min"),
    pytest.param(0.6917, "float32", [], {},
                 "tensor(0.6917)",
                 id="scalar_float"),
    pytest.param(3.0, "float64", [], {},
                 "tensor(3., dtype=nnkit.float64)",
                 id="scalar_float64"),
    pytest.param(5, "int64", [], {},
                 "tensor(5)",
                 id="scalar_int"),
    pytest.param(-5, "int32", [], {},
                 "tensor(-5, dtype=nnkit.int32)",
                 id="scalar_int32"),
    pytest.param(False, "bool", [], {},
                 "tensor(False)",
                 id="scalar_bool"),
    pytest.param(np.nan, "float32", [], {},
                 "tensor(nan)",
                 id="scalar_nan"),
    pytest.param(-np.inf, "float32", [], {},
                 "tensor(-inf)",
                 id="scalar_inf"),
    pytest.param(-0.0, "float32", [], {},
                 "tensor(-0.)",
                 id="scalar_neg_zero"),
    pytest.param(0.0, "float32", ["requires_grad=True"], {},
                 "tensor(0., requires_grad=True)",
                 id="scalar_zero"),
    pytest.param(1e-05, "float32", [], {},
                 "tensor(1.0000e-05)",
                 id="scalar_small"),
    pytest.param(123456789.0, "float32", [], {},
                 "tensor(1.2346e+08)",
                 id="scalar_big"),
    pytest.param(np.zeros(3), "float32", [], {},
                 "tensor([0., 0., 0.])",
                 id="zeros"),
    pytest.param([0.0, -0.0, 1.0], "float32", [], {},
                 "tensor([0., -0., 1.])",
                 id="signed_zeros"),
    pytest.param([np.nan, 1.0, 2.0], "float32", [], {},
                 "tensor([nan, 1., 2.])",
                 id="nan_int_mode"),
    pytest.param([np.nan, np.inf, -np.inf], "float32", [], {},
                 "tensor([nan, inf, -inf])",
                 id="nonfinite_only"),
    pytest.param([1.5, np.nan, -np.inf], "float32", [], {},
                 "tensor([1.5000,    nan,   -inf])",
                 id="nonfinite_fixed"),
    pytest.param([1e-05, np.inf, -1.0], "float32", [], {},
                 "tensor([ 1.0000e-05,         inf, -1.0000e+00])",
                 id="nonfinite_sci"),
    pytest.param([np.nan, 0.0], "float32", [], {},
                 "tensor([nan, 0.])",
                 id="nan_and_zero"),
    pytest.param([0.001, 0.5, 0.9999], "float32", [], {},
                 "tensor([0.0010, 0.5000, 0.9999])",
                 id="fixed"),
    pytest.param([0.00005, 0.12345, 2.5], "float64", [], {},
                 "tensor([5.0000e-05, 1.2345e-01, 2.5000e+00], dtype=nnkit.float64)",
                 id="fixed_rounding"),
    pytest.param([1e-05, 1.0], "float32", [], {},
                 "tensor([1.0000e-05, 1.0000e+00])",
                 id="sci_small"),
    pytest.param([0.1, 200.0], "float32", [], {},
                 "tensor([1.0000e-01, 2.0000e+02])",
                 id="sci_ratio"),
    pytest.param([0.1, 100.0], "float32", [], {},
                 "tensor([  0.1000, 100.0000])",
                 id="sci_ratio_edge"),
    pytest.param([1e9, 2e9], "float32", [], {},
                 "tensor([1.0000e+09, 2.0000e+09])",
                 id="sci_big"),
    pytest.param([1.0, 2000.0], "float32", [], {},
                 "tensor([1.0000e+00, 2.0000e+03])",
                 id="int_mode_sci_ratio"),
    pytest.param([100000000.0, -3.0], "float64", [], {},
                 "tensor([ 1.0000e+08, -3.0000e+00], dtype=nnkit.float64)",
                 id="int_mode_large"),
    pytest.param([200000000.0, 300000000.0], "float64", [], {},
                 "tensor([2.0000e+08, 3.0000e+08], dtype=nnkit.float64)",
                 id="int_mode_sci_big"),
    pytest.param([-1e-08, 3.0, -4.5], "float64", [], {},
                 "tensor([-1.0000e-08,  3.0000e+00, -4.5000e+00], dtype=nnkit.float64)",
                 id="sci_negative"),
    pytest.param(np.arange(6).reshape(2, 3) / 4, "float32", [], {},
                 "tensor([[0.0000, 0.2500, 0.5000],\n"
                 "        [0.7500, 1.0000, 1.2500]])",
                 id="matrix"),
    pytest.param([[1], [2], [3]], "int64", [], {},
                 "tensor([[1],\n"
                 "        [2],\n"
                 "        [3]])",
                 id="column"),
    pytest.param(np.arange(24).reshape(2, 3, 4), "float32", [], {},
                 "tensor([[[ 0.,  1.,  2.,  3.],\n"
                 "         [ 4.,  5.,  6.,  7.],\n"
                 "         [ 8.,  9., 10., 11.]],\n"
                 "\n"
                 "        [[12., 13., 14., 15.],\n"
                 "         [16., 17., 18., 19.],\n"
                 "         [20., 21., 22., 23.]]])",
                 id="three_d"),
    pytest.param(np.arange(16).reshape(2, 2, 2, 2) - 8, "int64", [], {},
                 "tensor([[[[-8, -7],\n"
                 "          [-6, -5]],\n"
                 "\n"
                 "         [[-4, -3],\n"
                 "          [-2, -1]]],\n"
                 "\n"
                 "\n"
                 "        [[[ 0,  1],\n"
                 "          [ 2,  3]],\n"
                 "\n"
                 "         [[ 4,  5],\n"
                 "          [ 6,  7]]]])",
                 id="four_d"),
    pytest.param(np.arange(8).reshape(2, 2, 2) / 8, "float32", ["grad_fn=<MulBackward0>"], {},
                 "tensor([[[0.0000, 0.1250],\n"
                 "         [0.2500, 0.3750]],\n"
                 "\n"
                 "        [[0.5000, 0.6250],\n"
                 "         [0.7500, 0.8750]]], grad_fn=<MulBackward0>)",
                 id="three_d_grad"),
    pytest.param(np.full((1, 1, 1, 1, 1), 0.25), "float64", [], {},
                 "tensor([[[[[0.2500]]]]], dtype=nnkit.float64)",
                 id="singleton_5d"),
    pytest.param(np.zeros((0,)), "float32", [], {},
                 "tensor([])",
                 id="empty"),
    pytest.param(np.zeros((0, 3)), "float32", [], {},
                 "tensor([], size=(0, 3))",
                 id="empty_2d"),
    pytest.param(np.zeros((0,)), "int64", [], {},
                 "tensor([], dtype=nnkit.int64)",
                 id="empty_int64"),
    pytest.param(np.zeros((2, 0, 3)), "bool", [], {},
                 "tensor([], size=(2, 0, 3), dtype=nnkit.bool)",
                 id="empty_bool_3d"),
    pytest.param(np.zeros((0,)), "float64", ["requires_grad=True"], {},
                 "tensor([], dtype=nnkit.float64, requires_grad=True)",
                 id="empty_float64"),
    pytest.param(np.zeros((0, 1)), "uint8", [], {},
                 "tensor([], size=(0, 1), dtype=nnkit.uint8)",
                 id="empty_uint8_2d"),
    pytest.param(np.arange(30) / 8, "float32", [], {},
                 "tensor([0.0000, 0.1250, 0.2500, 0.3750, 0.5000, 0.6250, 0.7500, 0.8750, 1.0000,\n"
                 "        1.1250, 1.2500, 1.3750, 1.5000, 1.6250, 1.7500, 1.8750, 2.0000, 2.1250,\n"
                 "        2.2500, 2.3750, 2.5000, 2.6250, 2.7500, 2.8750, 3.0000, 3.1250, 3.2500,\n"
                 "        3.3750, 3.5000, 3.6250])",
                 id="wrap_1d"),
    pytest.param(np.arange(40) * 1000, "int64", [], {},
                 "tensor([    0,  1000,  2000,  3000,  4000,  5000,  6000,  7000,  8000,  9000,\n"
                 "        10000, 11000, 12000, 13000, 14000, 15000, 16000, 17000, 18000, 19000,\n"
                 "        20000, 21000, 22000, 23000, 24000, 25000, 26000, 27000, 28000, 29000,\n"
                 "        30000, 31000, 32000, 33000, 34000, 35000, 36000, 37000, 38000, 39000])",
                 id="wrap_int"),
    pytest.param((np.arange(40).reshape(2, 20) - 17) / 16, "float32", [], {},
                 "tensor([[-1.0625, -1.0000, -0.9375, -0.8750, -0.8125, -0.7500, -0.6875, -0.6250,\n"
                 "         -0.5625, -0.5000, -0.4375, -0.3750, -0.3125, -0.2500, -0.1875, -0.1250,\n"
                 "         -0.0625,  0.0000,  0.0625,  0.1250],\n"
                 "        [ 0.1875,  0.2500,  0.3125,  0.3750,  0.4375,  0.5000,  0.5625,  0.6250,\n"
                 "          0.6875,  0.7500,  0.8125,  0.8750,  0.9375,  1.0000,  1.0625,  1.1250,\n"
                 "          1.1875,  1.2500,  1.3125,  1.3750]])",
                 id="wrap_rows"),
    pytest.param(np.arange(60).reshape(2, 2, 15) / 3, "float64", [], {},
                 "tensor([[[ 0.0000,  0.3333,  0.6667,  1.0000,  1.3333,  1.6667,  2.0000,\n"
                 "           2.3333,  2.6667,  3.0000,  3.3333,  3.6667,  4.0000,  4.3333,\n"
                 "           4.6667],\n"
                 "         [ 5.0000,  5.3333,  5.6667,  6.0000,  6.3333,  6.6667,  7.0000,\n"
                 "           7.3333,  7.6667,  8.0000,  8.3333,  8.6667,  9.0000,  9.3333,\n"
                 "           9.6667]],\n"
                 "\n"
                 "        [[10.0000, 10.3333, 10.6667, 11.0000, 11.3333, 11.6667, 12.0000,\n"
                 "          12.3333, 12.6667, 13.0000, 13.3333, 13.6667, 14.0000, 14.3333,\n"
                 "          14.6667],\n"
                 "         [15.0000, 15.3333, 15.6667, 16.0000, 16.3333, 16.6667, 17.0000,\n"
                 "          17.3333, 17.6667, 18.0000, 18.3333, 18.6667, 19.0000, 19.3333,\n"
                 "          19.6667]]], dtype=nnkit.float64)",
                 id="wrap_3d"),
    pytest.param((np.arange(12) + 1) * 10.0 ** np.arange(12), "float64", [], {},
                 "tensor([1.0000e+00, 2.0000e+01, 3.0000e+02, 4.0000e+03, 5.0000e+04, 6.0000e+05,\n"
                 "        7.0000e+06, 8.0000e+07, 9.0000e+08, 1.0000e+10, 1.1000e+11, 1.2000e+12],\n"
                 "       dtype=nnkit.float64)",
                 id="wrap_sci"),
    pytest.param(np.arange(26) / 4, "float32", ["grad_fn=<MulBackward0>"], {},
                 "tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000, 1.2500, 1.5000, 1.7500, 2.0000,\n"
                 "        2.2500, 2.5000, 2.7500, 3.0000, 3.2500, 3.5000, 3.7500, 4.0000, 4.2500,\n"
                 "        4.5000, 4.7500, 5.0000, 5.2500, 5.5000, 5.7500, 6.0000, 6.2500],\n"
                 "       grad_fn=<MulBackward0>)",
                 id="wrap_suffix"),
    pytest.param([[0.5, 1.5, 2.5], [3.5, 4.5, 5.5]], "float32",
                 ["grad_fn=<BinaryCrossEntropyWithLogitsBackward0>"], {},
                 "tensor([[0.5000, 1.5000, 2.5000],\n"
                 "        [3.5000, 4.5000, 5.5000]],\n"
                 "       grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)",
                 id="wrap_long_suffix"),
    pytest.param(np.arange(12) / 4, "float64", ["requires_grad=True"], {},
                 "tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000, 1.2500, 1.5000, 1.7500, 2.0000,\n"
                 "        2.2500, 2.5000, 2.7500], dtype=nnkit.float64, requires_grad=True)",
                 id="wrap_two_suffixes"),
    pytest.param(np.arange(2000) / 2, "float32", [], {},
                 "tensor([0.0000e+00, 5.0000e-01, 1.0000e+00,  ..., 9.9850e+02, 9.9900e+02,\n"
                 "        9.9950e+02])",
                 id="summary_1d"),
    pytest.param(np.arange(1001), "int64", [], {},
                 "tensor([   0,    1,    2,  ...,  998,  999, 1000])",
                 id="summary_int"),
    pytest.param(np.arange(1000) % 7, "int64", [], {},
                 "tensor([0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2,\n"
                 "        3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4,\n"
                 "        5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0,\n"
                 "        1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2,\n"
                 "        3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4,\n"
                 "        5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0,\n"
                 "        1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2,\n"
                 "        3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4,\n"
                 "        5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0,\n"
                 "        1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2,\n"
                 "        3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4,\n"
                 "        5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0,\n"
                 "        1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2,\n"
                 "        3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4,\n"
                 "        5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0,\n"
                 "        1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2,\n"
                 "        3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4,\n"
                 "        5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0,\n"
                 "        1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5])",
                 id="no_summary_at_threshold"),
    pytest.param(np.arange(1600).reshape(40, 40) / 10, "float32", [], {},
                 "tensor([[0.0000e+00, 1.0000e-01, 2.0000e-01,  ..., 3.7000e+00, 3.8000e+00,\n"
                 "         3.9000e+00],\n"
                 "        [4.0000e+00, 4.1000e+00, 4.2000e+00,  ..., 7.7000e+00, 7.8000e+00,\n"
                 "         7.9000e+00],\n"
                 "        [8.0000e+00, 8.1000e+00, 8.2000e+00,  ..., 1.1700e+01, 1.1800e+01,\n"
                 "         1.1900e+01],\n"
                 "        ...,\n"
                 "        [1.4800e+02, 1.4810e+02, 1.4820e+02,  ..., 1.5170e+02, 1.5180e+02,\n"
                 "         1.5190e+02],\n"
                 "        [1.5200e+02, 1.5210e+02, 1.5220e+02,  ..., 1.5570e+02, 1.5580e+02,\n"
                 "         1.5590e+02],\n"
                 "        [1.5600e+02, 1.5610e+02, 1.5620e+02,  ..., 1.5970e+02, 1.5980e+02,\n"
                 "         1.5990e+02]])",
                 id="summary_2d"),
    pytest.param(np.arange(8000).reshape(20, 20, 20), "int64", [], {},
                 "tensor([[[   0,    1,    2,  ...,   17,   18,   19],\n"
                 "         [  20,   21,   22,  ...,   37,   38,   39],\n"
                 "         [  40,   41,   42,  ...,   57,   58,   59],\n"
                 "         ...,\n"
                 "         [ 340,  341,  342,  ...,  357,  358,  359],\n"
                 "         [ 360,  361,  362,  ...,  377,  378,  379],\n"
                 "         [ 380,  381,  382,  ...,  397,  398,  399]],\n"
                 "\n"
                 "        [[ 400,  401,  402,  ...,  417,  418,  419],\n"
                 "         [ 420,  421,  422,  ...,  437,  438,  439],\n"
                 "         [ 440,  441,  442,  ...,  457,  458,  459],\n"
                 "         ...,\n"
                 "         [ 740,  741,  742,  ...,  757,  758,  759],\n"
                 "         [ 760,  761,  762,  ...,  777,  778,  779],\n"
                 "         [ 780,  781,  782,  ...,  797,  798,  799]],\n"
                 "\n"
                 "        [[ 800,  801,  802,  ...,  817,  818,  819],\n"
                 "         [ 820,  821,  822,  ...,  837,  838,  839],\n"
                 "         [ 840,  841,  842,  ...,  857,  858,  859],\n"
                 "         ...,\n"
                 "         [1140, 1141, 1142,  ..., 1157, 1158, 1159],\n"
                 "         [1160, 1161, 1162,  ..., 1177, 1178, 1179],\n"
                 "         [1180, 1181, 1182,  ..., 1197, 1198, 1199]],\n"
                 "\n"
                 "        ...,\n"
                 "\n"
                 "        [[6800, 6801, 6802,  ..., 6817, 6818, 6819],\n"
                 "         [6820, 6821, 6822,  ..., 6837, 6838, 6839],\n"
                 "         [6840, 6841, 6842,  ..., 6857, 6858, 6859],\n"
                 "         ...,\n"
                 "         [7140, 7141, 7142,  ..., 7157, 7158, 7159],\n"
                 "         [7160, 7161, 7162,  ..., 7177, 7178, 7179],\n"
                 "         [7180, 7181, 7182,  ..., 7197, 7198, 7199]],\n"
                 "\n"
                 "        [[7200, 7201, 7202,  ..., 7217, 7218, 7219],\n"
                 "         [7220, 7221, 7222,  ..., 7237, 7238, 7239],\n"
                 "         [7240, 7241, 7242,  ..., 7257, 7258, 7259],\n"
                 "         ...,\n"
                 "         [7540, 7541, 7542,  ..., 7557, 7558, 7559],\n"
                 "         [7560, 7561, 7562,  ..., 7577, 7578, 7579],\n"
                 "         [7580, 7581, 7582,  ..., 7597, 7598, 7599]],\n"
                 "\n"
                 "        [[7600, 7601, 7602,  ..., 7617, 7618, 7619],\n"
                 "         [7620, 7621, 7622,  ..., 7637, 7638, 7639],\n"
                 "         [7640, 7641, 7642,  ..., 7657, 7658, 7659],\n"
                 "         ...,\n"
                 "         [7940, 7941, 7942,  ..., 7957, 7958, 7959],\n"
                 "         [7960, 7961, 7962,  ..., 7977, 7978, 7979],\n"
                 "         [7980, 7981, 7982,  ..., 7997, 7998, 7999]]])",
                 id="summary_3d"),
    pytest.param(np.arange(2000).reshape(2, 1000), "int32", [], {},
                 "tensor([[   0,    1,    2,  ...,  997,  998,  999],\n"
                 "        [1000, 1001, 1002,  ..., 1997, 1998, 1999]], dtype=nnkit.int32)",
                 id="summary_short_dim"),
    pytest.param(np.concatenate([[1.5], np.zeros(1000), [2.0]]), "float32", [], {},
                 "tensor([1.5000, 0.0000, 0.0000,  ..., 0.0000, 0.0000, 2.0000])",
                 id="summary_width_from_shown"),
    pytest.param(np.concatenate([[1.0, 2.0, 3.0], np.full(1000, 123456.5), [4.0, 5.0, 6.0]]),
                 "float32", [], {},
                 "tensor([1., 2., 3.,  ..., 4., 5., 6.])",
                 id="summary_hides_wide"),
    pytest.param([1.12345, -2.5], "float32", [], {"precision": 2},
                 "tensor([ 1.12, -2.50])",
                 id="precision_2"),
    pytest.param([1.5, 2.25], "float64", [], {"precision": 0},
                 "tensor([2, 2], dtype=nnkit.float64)",
                 id="precision_0"),
    pytest.param([1e-07, 1.0], "float32", [], {"precision": 6},
                 "tensor([1.000000e-07, 1.000000e+00])",
                 id="precision_6_sci"),
    pytest.param([1.0, 2.5], "float32", [], {"sci_mode": True},
                 "tensor([1.0000e+00, 2.5000e+00])",
                 id="sci_mode_on"),
    pytest.param([1.0, 2.0], "float32", [], {"sci_mode": True},
                 "tensor([1.0000e+00, 2.0000e+00])",
                 id="sci_mode_on_int"),
    pytest.param([1e-05, 1000.0], "float32", [], {"sci_mode": False},
                 "tensor([   0.0000, 1000.0000])",
                 id="sci_mode_off"),
    pytest.param(np.arange(10), "int64", [], {"threshold": 5},
                 "tensor([0, 1, 2,  ..., 7, 8, 9])",
                 id="threshold_5"),
    pytest.param(np.arange(16).reshape(4, 4) / 2, "float32", [], {"threshold": 5, "edgeitems": 1},
                 "tensor([[0.0000,  ..., 1.5000],\n"
                 "        ...,\n"
                 "        [6.0000,  ..., 7.5000]])",
                 id="edgeitems_1"),
    pytest.param(np.arange(10), "int64", [], {"threshold": 5, "edgeitems": 0},
                 "tensor([...], size=(10,))",
                 id="edgeitems_0"),
    pytest.param(np.arange(20).reshape(4, 5) / 3, "float32", ["requires_grad=True"],
                 {"threshold": 5, "edgeitems": 0},
                 "tensor([...], size=(4, 5), requires_grad=True)",
                 id="edgeitems_0_2d"),
    pytest.param([1.0, 2.0], "float32", [], {"edgeitems": 0},
                 "tensor([1., 2.], size=(2,))",
                 id="edgeitems_0_unsummarized"),
    pytest.param(np.arange(12) / 3, "float32", ["requires_grad=True"], {"linewidth": 40},
                 "tensor([0.0000, 0.3333, 0.6667, 1.0000,\n"
                 "        1.3333, 1.6667, 2.0000, 2.3333,\n"
                 "        2.6667, 3.0000, 3.3333, 3.6667],\n"
                 "       requires_grad=True)",
                 id="linewidth_40"),
    pytest.param([[1.5, 2.5, 3.5]], "float32", [], {"linewidth": 10},
                 "tensor([[1.5000,\n"
                 "         2.5000,\n"
                 "         3.5000]])",
                 id="linewidth_narrow"),
    pytest.param(np.arange(1200) / 3, "float32", [], {"profile": "short"},
                 "tensor([0.00e+00, 3.33e-01,  ..., 3.99e+02, 4.00e+02])",
                 id="profile_short"),
    pytest.param(np.arange(1001) % 10, "int64", [], {"profile": "full"},
                 "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n"
                 "        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n"
                 "        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n"
                 "        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n"
                 "        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n"
                 "        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n"
                 "        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n"
                 "        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n"
                 "        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n"
                 "        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n"
                 "        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n"
                 "        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n"
                 "        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0])",
                 id="profile_full"),
]


@pytest.mark.parametrize("values, dtype_name, suffixes, options, expected", CASES)
def test_format_matches_pytorch(values, dtype_name, suffixes, options, expected):
    data = np.asarray(values, dtype=dtype_name)
    with printoptions(**options):
        assert format_tensor(data, dtype_name, suffixes) == expected


def test_dtype_name_defaults_to_the_arrays():
    assert format_tensor(np.array([1.0, 2.0])) == "tensor([1., 2.], dtype=nnkit.float64)"
    assert format_tensor(np.array([1, 2], dtype=np.int32)) == "tensor([1, 2], dtype=nnkit.int32)"


def test_dtype_name_may_be_a_dtype_object():
    text = format_tensor(np.array([3], dtype=np.uint8), np.dtype(np.uint8))
    assert text == "tensor([3], dtype=nnkit.uint8)"


def test_accepts_array_likes_and_tuple_suffixes():
    assert format_tensor([[1, 2]], "int64", ("requires_grad=True",)) == "tensor([[1, 2]], requires_grad=True)"


def test_does_not_modify_its_input():
    data = np.array([[1.5, np.nan], [-0.0, 2.0]], dtype=np.float32)
    before = data.copy()
    format_tensor(data, "float32")
    np.testing.assert_array_equal(data, before)


def test_summarized_print_is_fast_for_a_big_tensor():
    # Only the shown elements are formatted; a million elements must not be walked in Python.
    text = format_tensor(np.zeros((1000, 1000), dtype=np.float32), "float32")
    assert text.splitlines()[0] == "tensor([[0., 0., 0.,  ..., 0., 0., 0.],"


def test_unsupported_array_kind_is_an_error():
    with pytest.raises(TypeError, match="complex128"):
        format_tensor(np.array([1 + 2j]), "complex128")


def test_set_printoptions_changes_later_prints():
    set_printoptions(precision=2)
    assert format_tensor(np.array([1.12345], dtype=np.float32), "float32") == "tensor([1.12])"
    set_printoptions(threshold=5)
    assert format_tensor(np.arange(10), "int64") == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    set_printoptions(profile="default")
    assert format_tensor(np.array([1.12345], dtype=np.float32), "float32") == "tensor([1.1235])"
    assert format_tensor(np.arange(10), "int64") == "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])"


def test_set_printoptions_always_sets_sci_mode():
    # As in PyTorch: a call that leaves sci_mode out returns it to automatic.
    set_printoptions(sci_mode=True)
    assert printing.PRINT_OPTS.sci_mode is True
    set_printoptions(precision=3)
    assert printing.PRINT_OPTS.sci_mode is None
    assert printing.PRINT_OPTS.precision == 3


def test_profile_is_applied_before_the_other_arguments():
    set_printoptions(profile="short", edgeitems=4)
    assert get_printoptions() == dict(precision=2, threshold=1000, edgeitems=4, linewidth=80, sci_mode=None)
    set_printoptions(profile="full")
    assert get_printoptions()["threshold"] == float("inf")


def test_unknown_profile_is_an_error():
    with pytest.raises(ValueError, match="unknown profile 'long'"):
        set_printoptions(profile="long")


def test_printoptions_restores_on_exit_and_on_error():
    with printoptions(precision=1, sci_mode=False):
        assert get_printoptions()["precision"] == 1
    assert get_printoptions() == dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
    with pytest.raises(RuntimeError), printoptions(linewidth=20):
        raise RuntimeError
    assert get_printoptions()["linewidth"] == 80


_TORCH_OPTIONS = [
    {}, {"precision": 2}, {"threshold": 20}, {"edgeitems": 1, "threshold": 10}, {"linewidth": 40},
    {"sci_mode": True}, {"sci_mode": False}, {"profile": "short"}, {"edgeitems": 0, "threshold": 10},
    {"precision": 0}, {"linewidth": 120, "precision": 6},
]
_DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _random_case(rng):
    ndim = int(rng.choice([0, 1, 1, 2, 2, 3, 4]))
    high = 30 if rng.random() < 0.2 else 8
    shape = tuple(int(rng.integers(1, high)) for _ in range(ndim))
    if ndim and rng.random() < 0.1:
        shape = shape[:-1] + (0,)
    dtype_name = str(rng.choice(_DTYPES))
    n = int(np.prod(shape))
    if dtype_name == "bool":
        return np.asarray(rng.random(n).reshape(shape) < 0.5), dtype_name
    if dtype_name.startswith("int") or dtype_name == "uint8":
        info = np.iinfo(dtype_name)
        limit = int(rng.choice([10, 1000, info.max]))
        values = rng.integers(max(info.min, -limit), min(info.max, limit), n, dtype=dtype_name, endpoint=True)
        return values.reshape(shape), dtype_name
    kind = rng.integers(0, 5)
    if kind == 0:
        values = rng.standard_normal(n)
    elif kind == 1:
        values = rng.integers(-100, 100, n).astype(np.float64)
    elif kind == 2:
        values = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 12)
    elif kind == 3:
        values = np.exp(rng.uniform(-12, 20, n)) * rng.choice([-1, 1], n)
    else:
        values = rng.choice([0.0, -0.0, 1.0, np.nan, np.inf, -np.inf, 0.5, 1e-5, 123456.0], n)
    with np.errstate(over="ignore"):
        return values.astype(dtype_name).reshape(shape), dtype_name


def test_random_parity_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(20240601)
    saved = torch._tensor_str.get_printoptions()
    mismatches = []
    try:
        for _ in range(400):
            data, dtype_name = _random_case(rng)
            options = _TORCH_OPTIONS[rng.integers(0, len(_TORCH_OPTIONS))]
            tensor = torch.from_numpy(data.copy())
            suffixes = []
            if tensor.is_floating_point() and rng.random() < 0.5:
                tensor = tensor.requires_grad_(True) * 1
                suffixes = ["grad_fn=<MulBackward0>"]
            torch.set_printoptions(profile="default")
            torch.set_printoptions(**options)
            with printoptions(**{"profile": "default", **options}):
                ours = format_tensor(data, dtype_name, suffixes)
            expected = repr(tensor).replace("torch.", "nnkit.")
            if ours != expected:
                mismatches.append(f"{options} {dtype_name} {data.shape}\n{expected}\n{ours}")
    finally:
        torch.set_printoptions(profile="default")
        torch.set_printoptions(**saved)
    assert not mismatches, "\n\n".join(mismatches[:3])
