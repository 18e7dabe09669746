"""Storing and serving uploaded attachments (PDF, JPEG, PNG).

What a file is gets decided from its bytes alone: the filename and the content type the
browser sent are the uploader's claims, not facts. Files are stored once per content (sha256);
`store()` flushes and the caller commits. `send()` serves a stored file so that it cannot run
script in our origin, whatever it contains.
"""
import hashlib
import io
import threading
import warnings

from flask import current_app, send_file
from flask_babel import gettext as _
from PIL import Image, ImageFile
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from ..extensions import db
from .models import StoredFile

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
REFUSALS = ("empty", "too_large", "type_not_allowed", "damaged")


class FileRefused(Exception):
    """An upload that is not stored. `code` is one of REFUSALS; `limit_mb` comes with
    too_large, `kind` ("PDF", "JPEG", "PNG": what the bytes claim to be) with damaged."""

    def __init__(self, code: str, *, limit_mb: float | None = None, kind: str | None = None):
        assert code in REFUSALS, code
        super().__init__(code)
        self.code = code
        self.limit_mb = limit_mb
        self.kind = kind


def store(data: bytes | FileStorage) -> StoredFile:
    """The stored file for these bytes (the existing row if the same bytes were stored before).
    Raises FileRefused. Flushes; the caller commits."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    content = _read(data, limit)
    if not content:
        raise FileRefused("empty")
    if len(content) > limit:
        raise FileRefused("too_large", limit_mb=limit / (1024 * 1024))
    mime = detect(content)
    digest = hashlib.sha256(content).hexdigest()
    existing = db.session.get(StoredFile, digest)
    if existing is not None:
        return existing
    stored = StoredFile(sha256=digest, content=content, size=len(content), mime=mime)
    try:
        with db.session.begin_nested():
            db.session.add(stored)
    except IntegrityError:
        # The same bytes were stored a moment ago by another request: that row is this file.
        return db.session.get(StoredFile, digest)
    return stored


def _read(data: bytes | FileStorage, limit: int) -> bytes:
    """At most limit + 1 bytes: enough to know the file is too large without reading it all."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data[:limit + 1])
    stream = data.stream
    if stream.seekable():
        stream.seek(0)  # a form validator may have read it already
    return stream.read(limit + 1)


def detect(content: bytes) -> str:
    """The MIME type of these bytes, from the content only. Raises FileRefused
    (type_not_allowed, or damaged when the bytes start like an allowed kind but do not hold one)."""
    if content.startswith(b"%PDF-"):
        if b"%%EOF" not in content[-1024:]:
            raise FileRefused("damaged", kind="PDF")
        return PDF
    if content.startswith(b"\xff\xd8\xff"):
        return _image(content, "JPEG", JPEG)
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return _image(content, "PNG", PNG)
    raise FileRefused("type_not_allowed")


# Two process-wide Pillow settings are changed while an image is checked, under this lock so
# that concurrent checks put them back as they were: DecompressionBombWarning becomes an error
# (Pillow only warns between its pixel limit and twice it), and LOAD_TRUNCATED_IMAGES, which
# WeasyPrint switches on when imported, is off (a truncated image would otherwise load padded).
_PILLOW_SETTINGS = threading.Lock()


def _image(content: bytes, fmt: str, mime: str) -> str:
    try:
        with _PILLOW_SETTINGS, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            truncated_ok, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
            try:
                _check_image(content, fmt)
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
    except (Image.DecompressionBombWarning, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError, EOFError):
        # UnidentifiedImageError is an OSError; SyntaxError is how Pillow's parsers say "bad data".
        raise FileRefused("damaged", kind=fmt) from None
    return mime


def _check_image(content: bytes, fmt: str) -> None:
    # Only the one parser the magic bytes name: no other Pillow plugin sees the upload.
    with Image.open(io.BytesIO(content), formats=[fmt]) as img:
        img.verify()  # PNG: every chunk's CRC, up to IEND
    if fmt == "JPEG":
        # verify() checks nothing in a JPEG: decode it, at 1/8 scale (cheap in memory), so that
        # a truncated or corrupt scan is noticed.
        with Image.open(io.BytesIO(content), formats=[fmt]) as img:
            img.draft(None, (max(1, img.width // 8), max(1, img.height // 8)))
            img.load()


def message(err: FileRefused) -> str:
    """What to tell the user who uploaded the file."""
    if err.code == "empty":
        return _("The file is empty.")
    if err.code == "too_large":
        return _("The file is larger than %(limit)s MB.", limit=f"{err.limit_mb:g}")
    if err.code == "damaged":
        return _("The file could not be read: it is damaged or not really a %(kind)s.",
                 kind=err.kind)
    return _("Only PDF, JPEG and PNG files are accepted.")


def send(stored: StoredFile, filename: str, *, download: bool = False):
    """A response with the stored file, shown in the browser (or saved, with download=True)
    under `filename`. The type is the one detected at upload; the sandbox keeps whatever the
    file holds (a PDF with script, say) out of our origin."""
    name = "".join(c for c in filename if c.isprintable()).strip() or "attachment"
    response = send_file(io.BytesIO(stored.content), mimetype=stored.mime, as_attachment=download,
                         download_name=name, etag=stored.sha256, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, max-age=0"
    return response
