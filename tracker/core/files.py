"""Content-addressed file storage: files live under their sha256, outside the database and outside any
name the user chose, so an uploaded name can never reach the file system."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar.datastructures import UploadFile
from litestar.response import File

from tracker.core.errors import FormError, NotFound, TooLarge
from tracker.settings import Settings


@dataclass(frozen=True)
class Staged:
    """An upload already written and synced to a temporary file beside the store, with its sha256 and size, before
    the request's transaction began: keeping it is then a rename, so no writer holds the database's write lock
    while a large file is written. The temporary file goes when the object does, unless it was kept."""

    path: Path | None  # None: over the store's limit, nothing written
    sha: str
    size: int


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    chunks: object  # bytes or an iterable of bytes; read already when staged
    staged: Staged | None = None


def uploads_in(data: dict[str, Any], name: str, store: FileStore) -> list[Upload]:
    """The files a multipart body sent under `name` (one or several; a file input left empty sends none), each
    staged in the store. Call it before the handler's first query, so the writing happens outside the transaction."""
    files = data.get(name, [])
    files = files if isinstance(files, list) else [files]
    return [
        Upload(f.filename, f.content_type, b"", store.stage(iter(lambda f=f: f.file.read(CHUNK), b"")))
        for f in files
        if isinstance(f, UploadFile) and f.filename
    ]


_SHA = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


class FileStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> FileStore:
        return cls(settings.upload_dir, settings.max_upload_mb * 1024 * 1024)

    def stage(self, chunks: Iterable[bytes] | bytes) -> Staged:
        """Write the content to a temporary file in the store, synced, hashing it on the way. Over the limit,
        nothing is kept and the result says so (keep refuses it where the request can say why)."""
        if isinstance(chunks, bytes):
            chunks = [chunks]
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > self.max_bytes:
                    break
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size > self.max_bytes:
            os.unlink(tmp)
            return Staged(None, "", size)
        staged = Staged(Path(tmp), digest.hexdigest(), size)
        weakref.finalize(staged, Path(tmp).unlink, missing_ok=True)
        return staged

    def _settle(self, staged: Staged) -> tuple[str, int]:
        """The staged file under its sha256 (same content, same name: a second upload simply replaces the first)."""
        if staged.path is None:
            raise TooLarge(detail=f"Each file may be at most {self.max_bytes // (1024 * 1024)} MB.")
        target = self.path_for(staged.sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if staged.path.exists() or not target.is_file():  # kept already (the same upload twice): nothing to move
            os.replace(staged.path, target)
        return staged.sha, staged.size

    def put(self, chunks: Iterable[bytes] | bytes) -> tuple[str, int]:
        """Store the content; returns (sha256, size). Over the limit: TooLarge, nothing kept."""
        return self._settle(self.stage(chunks))

    def keep(self, upload: Upload, field: str) -> tuple[str, str, int]:
        """An uploaded file stored: (its safe name, sha256, size). Over the limit: TooLarge; an empty file is
        refused beside `field`, as nothing a reviewer could open."""
        name = safe_filename(upload.filename)
        staged = upload.staged or self.stage(upload.chunks)  # type: ignore[arg-type]
        if staged.path is not None and not staged.size:
            raise FormError({field: f"{name} is empty (0 bytes). Attach the file with its content."})
        sha, size = self._settle(staged)
        return name, sha, size

    def path_for(self, sha: str) -> Path:
        if not _SHA.match(sha):
            raise NotFound(detail="No such file.")
        return self.root / sha[:2] / sha[2:4] / sha

    def open(self, sha: str):
        path = self.path_for(sha)
        if not path.is_file():
            raise NotFound(detail="The file is missing from storage.")
        return path.open("rb")


def safe_filename(name: str, fallback: str = "file") -> str:
    """The original name for display and downloads: no directories, no control characters, bounded length."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    if not name:
        return fallback
    stem, dot, ext = name.rpartition(".")
    if len(name) > 200:
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def as_download(store: FileStore, sha: str, filename: str) -> File:
    """A stored file as its download: always an attachment, never rendered inside the application's origin, under
    its original name: percent-encoded (RFC 6266), with a plain-ASCII stand-in for old clients, so no name can
    break out of the header."""
    path = store.path_for(sha)
    if not path.is_file():
        raise NotFound(detail="The file is missing from storage; restore it from backup.")
    plain = re.sub(r"[^A-Za-z0-9 ._()-]", "_", filename)
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return File(path=path, media_type="application/octet-stream", headers={"content-disposition": disposition})
