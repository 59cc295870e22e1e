"""MNIST and Fashion-MNIST: IDX parsing (raw and .gz), the local layouts, and the checked atomic download.

The download tests serve small generated IDX files from a local ``http.server`` on 127.0.0.1 and point the
datasets' ``mirrors``/``resources`` class attributes at it; nothing touches the network.
"""

import gzip
import hashlib
import http.server
import io
import socket
import struct
import sys
import threading

import numpy as np
import pytest

import nnkit as nk
from nnkit.data import DataLoader
from nnkit.data.datasets import MNIST, FashionMNIST, read_idx
from nnkit.data.transforms import Normalize

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def idx_bytes(array):
    """The IDX encoding of ``array``: magic (0, 0, type code, ndim), big-endian sizes, big-endian data."""
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}
    code = codes[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def make_split(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n, dtype=np.uint8)


@pytest.fixture(scope="module")
def arrays():
    """Small stand-ins for the four MNIST files: 12 training and 5 test images."""
    train_x, train_y = make_split(12, 0)
    test_x, test_y = make_split(5, 1)
    return dict(zip(FILES, [train_x, train_y, test_x, test_y]))


@pytest.fixture(scope="module")
def gz_files(arrays):
    """name.gz -> gzipped IDX bytes (mtime fixed, so the bytes and their MD5 are stable)."""
    out = {}
    for name, array in arrays.items():
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as f:
            f.write(idx_bytes(array))
        out[name + ".gz"] = buffer.getvalue()
    return out


def md5(data):
    return hashlib.md5(data).hexdigest()


def check_split(ds, images, labels):
    assert len(ds) == len(labels)
    assert ds.data.dtype == nk.uint8 and ds.data.shape == images.shape
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds.targets.dtype == nk.int64
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    image, label = ds[3]
    assert image.shape == (1, 28, 28) and image.dtype == nk.float32 and label == int(labels[3])
    np.testing.assert_array_equal(image.numpy()[0], images[3].astype(np.float32) / np.float32(255))


# -- reading IDX files ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_types_and_shapes(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = tmp_path / "x-idx3"
    path.write_bytes(idx_bytes(array))
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)
    gz = tmp_path / "x-idx3.gz"
    gz.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(gz), array)


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path, arrays):
    data = idx_bytes(arrays["train-images-idx3-ubyte"])
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(data[:-100])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte has 9308 bytes of data but its header declares "
                                         r"shape \(12, 28, 28\).*truncated"):
        read_idx(path)
    path.write_bytes(data[:10])  # inside the dimension list
    with pytest.raises(ValueError, match="truncated: the header declares 3 dimensions"):
        read_idx(path)
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ValueError, match="not an IDX file: bad magic number 1f8b0800"):
        read_idx(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty file"):
        read_idx(path)
    gz = tmp_path / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(gzip.compress(data)[:200])  # a truncated download
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz is not a readable IDX file"):
        read_idx(gz)
    gz.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not a readable IDX file"):
        read_idx(gz)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")


# -- local folders -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "gz"])
def test_reads_the_torchvision_layout(tmp_path, arrays, compressed):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        (raw / (name + ".gz" if compressed else name)).write_bytes(gzip.compress(data) if compressed else data)
    check_split(MNIST(tmp_path, train=True), arrays[FILES[0]], arrays[FILES[1]])
    check_split(MNIST(str(tmp_path), train=False), arrays[FILES[2]], arrays[FILES[3]])


def test_reads_files_in_root_itself_and_fashion_folder(tmp_path, arrays):
    for name, array in arrays.items():
        (tmp_path / name).write_bytes(idx_bytes(array))
    check_split(FashionMNIST(tmp_path, train=False), arrays[FILES[2]], arrays[FILES[3]])
    fashion = FashionMNIST(tmp_path)
    assert fashion.raw_folder == str(tmp_path / "FashionMNIST" / "raw")
    assert fashion.classes[int(fashion.targets[0])] == FashionMNIST.classes[int(arrays[FILES[1]][0])]
    assert len(FashionMNIST.classes) == 10 and FashionMNIST.classes[9] == "Ankle boot"


def test_missing_files_say_where_they_were_looked_for(tmp_path):
    with pytest.raises(RuntimeError, match=r"Dataset not found.*train-images-idx3-ubyte.*download=True"):
        MNIST(tmp_path)


def test_inconsistent_files_are_rejected(tmp_path, arrays):
    for name, array in arrays.items():
        (tmp_path / name).write_bytes(idx_bytes(array))
    (tmp_path / FILES[1]).write_bytes(idx_bytes(arrays[FILES[1]][:-1]))
    with pytest.raises(ValueError, match=r"expected 12 labels"):
        MNIST(tmp_path)
    (tmp_path / FILES[1]).write_bytes(idx_bytes(np.full(12, 10, np.uint8)))
    with pytest.raises(ValueError, match=r"labels must be in 0..9, got 10..10"):
        MNIST(tmp_path)
    (tmp_path / FILES[0]).write_bytes(idx_bytes(np.zeros((12, 28, 28), np.float32)))
    with pytest.raises(ValueError, match="expected uint8 images"):
        MNIST(tmp_path)


def test_batches_transforms_and_loader(tmp_path, arrays):
    for name, array in arrays.items():
        (tmp_path / name).write_bytes(idx_bytes(array))
    ds = MNIST(tmp_path, transform=Normalize((0.5,), (0.25,)))
    images, labels = ds.get_batch([5, 0])
    expected = (arrays[FILES[0]][[5, 0]].astype(np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.25)
    np.testing.assert_allclose(images.numpy()[:, 0], expected, rtol=1e-6, atol=1e-6)
    assert labels.tolist() == arrays[FILES[1]][[5, 0]].tolist()
    batches = list(DataLoader(ds, batch_size=5, drop_last=True))
    assert [b[0].shape for b in batches] == [(5, 1, 28, 28)] * 2
    assert "MNIST(split='train', samples=12)" == repr(ds)


def test_float_images_match_torchvision_to_tensor(tmp_path):
    torch = pytest.importorskip("torch")
    images = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(1, 28, 28)  # every byte value
    (tmp_path / FILES[0]).write_bytes(idx_bytes(images))
    (tmp_path / FILES[1]).write_bytes(idx_bytes(np.zeros(1, np.uint8)))
    ours = MNIST(tmp_path)[0][0].numpy()
    theirs = torch.from_numpy(images).float().div(255).numpy()  # torchvision's ToTensor on a uint8 image
    np.testing.assert_array_equal(ours, theirs)


# -- downloading from a local server -------------------------------------------------------------------------------
class Server:
    """A threaded HTTP server on 127.0.0.1 (port 0) serving ``files``; records every requested path."""

    def __init__(self, files, status=200):
        self.files = dict(files)
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path.rsplit("/", 1)[-1])
                if status != 200 or body is None:
                    self.send_error(status if status != 200 else 404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def serve(monkeypatch):
    """serve(files, status=200) -> a running Server; all are shut down after the test."""
    monkeypatch.setenv("no_proxy", "*")  # never route 127.0.0.1 through a proxy from the environment
    servers = []

    def start(files, status=200):
        servers.append(Server(files, status))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def dead_url():
    """The URL of a port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def point_at(monkeypatch, cls, mirrors, gz_files):
    """Make ``cls`` download from ``mirrors``, expecting the MD5 sums of ``gz_files``."""
    monkeypatch.setattr(cls, "mirrors", mirrors)
    resources = [(name + ".gz", md5(gz_files[name + ".gz"])) for name in FILES]
    monkeypatch.setattr(cls, "resources", resources)


def test_download_fetches_checks_and_never_refetches(tmp_path, serve, monkeypatch, arrays, gz_files):
    server = serve(gz_files)
    point_at(monkeypatch, MNIST, [server.url], gz_files)
    train = MNIST(tmp_path, train=True, download=True)
    check_split(train, arrays[FILES[0]], arrays[FILES[1]])
    assert sorted(server.requests) == sorted(f"/mnist/{name}.gz" for name in FILES)
    raw = tmp_path / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(name + ".gz" for name in FILES)
    for name in FILES:
        assert (raw / (name + ".gz")).read_bytes() == gz_files[name + ".gz"]

    check_split(MNIST(tmp_path, train=False, download=True), arrays[FILES[2]], arrays[FILES[3]])
    MNIST(tmp_path, train=True, download=True)
    assert len(server.requests) == 4  # everything was present and valid: nothing fetched again


def test_download_skips_files_already_there_raw_or_valid_gz(tmp_path, serve, monkeypatch, arrays, gz_files):
    server = serve(gz_files)
    point_at(monkeypatch, MNIST, [server.url], gz_files)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / FILES[0]).write_bytes(idx_bytes(arrays[FILES[0]]))  # uncompressed: used as is
    (tmp_path / (FILES[1] + ".gz")).write_bytes(gz_files[FILES[1] + ".gz"])  # valid .gz in root
    (raw / (FILES[2] + ".gz")).write_bytes(b"stale partial file")  # wrong checksum: fetched again
    MNIST(tmp_path, download=True)
    assert sorted(server.requests) == [f"/mnist/{FILES[2]}.gz", f"/mnist/{FILES[3]}.gz"]
    assert (raw / (FILES[2] + ".gz")).read_bytes() == gz_files[FILES[2] + ".gz"]


def test_corrupt_download_is_rejected_and_leaves_nothing(tmp_path, serve, monkeypatch, gz_files):
    bad = dict(gz_files)
    bad[FILES[2] + ".gz"] = gz_files[FILES[2] + ".gz"][:-7] + b"corrupt"
    server = serve(bad)
    point_at(monkeypatch, MNIST, [server.url], gz_files)
    with pytest.raises(RuntimeError) as info:
        MNIST(tmp_path, download=True)
    message = str(info.value)
    assert f"could not download {FILES[2]}.gz" in message
    assert f"checksum mismatch: MD5 {md5(bad[FILES[2] + '.gz'])}, expected {md5(gz_files[FILES[2] + '.gz'])}" in message
    assert server.url + FILES[2] + ".gz" in message
    raw = tmp_path / "MNIST" / "raw"
    # The two files before it are complete and verified; the corrupt one and any temporary file are gone.
    assert sorted(p.name for p in raw.iterdir()) == sorted(name + ".gz" for name in FILES[:2])

    server.files = gz_files  # the mirror is fixed: only the missing files are fetched
    MNIST(tmp_path, train=False, download=True)
    assert server.requests[3:] == [f"/mnist/{FILES[2]}.gz", f"/mnist/{FILES[3]}.gz"]


def test_failing_mirrors_fall_through_to_the_next(tmp_path, serve, monkeypatch, arrays, gz_files):
    broken = serve(gz_files, status=500)
    missing = serve({})
    good = serve(gz_files)
    point_at(monkeypatch, MNIST, [dead_url(), broken.url, missing.url, good.url], gz_files)
    check_split(MNIST(tmp_path, train=False, download=True), arrays[FILES[2]], arrays[FILES[3]])
    assert len(broken.requests) == len(missing.requests) == len(good.requests) == 4


def test_all_mirrors_failing_lists_every_attempt(tmp_path, serve, monkeypatch, gz_files):
    missing = serve({})
    dead = dead_url()
    point_at(monkeypatch, MNIST, [dead, missing.url], gz_files)
    with pytest.raises(RuntimeError) as info:
        MNIST(tmp_path, download=True)
    message = str(info.value)
    expected_md5 = md5(gz_files[FILES[0] + ".gz"])
    assert f"could not download {FILES[0]}.gz (expected MD5 {expected_md5}) from any mirror" in message
    assert f"{dead}{FILES[0]}.gz: URLError" in message
    assert f"{missing.url}{FILES[0]}.gz: HTTPError: Not Found" in message
    assert [p.name for p in (tmp_path / "MNIST" / "raw").iterdir()] == []


def test_truncated_idx_from_a_mirror_with_matching_checksum_gives_a_clear_error(tmp_path, serve, monkeypatch,
                                                                                gz_files):
    files = dict(gz_files)
    files[FILES[0] + ".gz"] = gzip.compress(idx_bytes(make_split(12, 0)[0])[:-50], mtime=0)
    server = serve(files)
    point_at(monkeypatch, MNIST, [server.url], files)  # the published checksum is of the truncated file
    with pytest.raises(ValueError, match=rf"{FILES[0]}\.gz has 9358 bytes of data.*truncated or corrupt"):
        MNIST(tmp_path, download=True)


def test_fashion_mnist_downloads_into_its_own_folder(tmp_path, serve, monkeypatch, arrays, gz_files):
    server = serve(gz_files)
    point_at(monkeypatch, FashionMNIST, [server.url], gz_files)
    ds = FashionMNIST(tmp_path, train=True, download=True)
    check_split(ds, arrays[FILES[0]], arrays[FILES[1]])
    assert sorted(p.name for p in (tmp_path / "FashionMNIST" / "raw").iterdir()) == sorted(f + ".gz" for f in FILES)
    assert not (tmp_path / "MNIST").exists()
    assert MNIST.mirrors != FashionMNIST.mirrors  # patching one class left the other alone


def test_progress_bar_only_on_a_terminal(tmp_path, serve, monkeypatch, capsys, gz_files):
    server = serve(gz_files)
    point_at(monkeypatch, MNIST, [server.url], gz_files)
    MNIST(tmp_path / "quiet", download=True)
    assert capsys.readouterr().err == ""  # stderr is not a terminal under pytest: no bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    MNIST(tmp_path / "tty", download=True)
    bar = terminal.getvalue()
    assert f"{FILES[0]}.gz:" in bar and "9.23k" in bar and "B/s" in bar  # name, size (9,452 bytes), unit
