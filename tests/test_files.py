"""The content-addressed file store and upload name handling."""

from __future__ import annotations

import gc
import hashlib
import io

import pytest
from litestar.datastructures import UploadFile

from tracker.core.errors import FormError, NotFound, TooLarge
from tracker.core.files import FileStore, safe_filename, uploads_in


def test_files_are_stored_under_their_sha256(tmp_path):
    store = FileStore(tmp_path, max_bytes=1000)
    sha, size = store.put([b"hello ", b"world"])
    assert sha == hashlib.sha256(b"hello world").hexdigest() and size == 11
    assert store.path_for(sha).read_bytes() == b"hello world"
    assert store.put(b"hello world") == (sha, 11)  # the same content is stored once
    with store.open(sha) as f:
        assert f.read() == b"hello world"


def test_oversized_files_are_refused_and_leave_nothing_behind(tmp_path):
    store = FileStore(tmp_path, max_bytes=10)
    with pytest.raises(TooLarge) as err:
        store.put([b"12345", b"678901"])
    assert err.value.status_code == 413 and "at most" in err.value.detail
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def _sent(name: str, content: bytes) -> UploadFile:
    return UploadFile(content_type="text/plain", filename=name, file_data=content)


def _left(root) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_an_upload_is_staged_as_it_arrives_and_kept_by_a_rename(tmp_path):
    """uploads_in writes each file before any transaction; keep moves it under its sha256. What is not kept (a
    refused request) is gone once the request lets go of it."""
    store = FileStore(tmp_path, max_bytes=100)
    kept, dropped = uploads_in({"f": [_sent("a.txt", b"agreed"), _sent("b.txt", b"refused")]}, "f", store)
    assert len(_left(tmp_path)) == 2 and all(n.startswith(".upload-") for n in _left(tmp_path))
    name, sha, size = store.keep(kept, "f")
    assert (name, size) == ("a.txt", 6) and store.path_for(sha).read_bytes() == b"agreed"
    assert store.keep(kept, "f") == (name, sha, size)  # the same upload kept twice: still there
    del kept, dropped
    gc.collect()
    assert _left(tmp_path) == [sha]


def test_an_oversized_or_empty_upload_is_refused_when_kept(tmp_path):
    store = FileStore(tmp_path, max_bytes=10)
    big, empty = uploads_in({"f": [_sent("big.bin", b"x" * 11), _sent("empty.txt", b"")]}, "f", store)
    with pytest.raises(TooLarge):
        store.keep(big, "f")
    with pytest.raises(FormError) as err:
        store.keep(empty, "f")
    assert "empty (0 bytes)" in err.value.errors["f"]
    del big, empty, err
    gc.collect()
    assert _left(tmp_path) == []
    assert uploads_in({"f": _sent("", b"")}, "f", store) == []  # a file input left empty sends no file
    assert uploads_in({"f": io.BytesIO(b"not an upload")}, "f", store) == []


@pytest.mark.parametrize("sha", ["../../etc/passwd", "a" * 63, "A" * 64, "", "0" * 64 + "/x"])
def test_only_real_digests_name_files(tmp_path, sha):
    with pytest.raises(NotFound):
        FileStore(tmp_path, 10).open(sha)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\plan.docx", "plan.docx"),
        ("..hidden", "hidden"),
        ("re\x00port\n.pdf", "report.pdf"),
        ("", "file"),
        ("/", "file"),
        ("Design Doc v2 (final).pdf", "Design Doc v2 (final).pdf"),
    ],
)
def test_upload_names_cannot_escape_or_smuggle(raw, expected):
    assert safe_filename(raw) == expected


def test_long_names_keep_their_extension():
    name = safe_filename("x" * 500 + ".pdf")
    assert len(name) == 200 and name.endswith(".pdf")
