"""The content-addressed file store and upload name handling."""

from __future__ import annotations

import hashlib

import pytest

from tracker.core.errors import NotFound, TooLarge
from tracker.core.files import FileStore, safe_filename


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
