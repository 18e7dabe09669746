"""Uploaded attachments: the type comes from the bytes, the same bytes are one row, the database
refuses to change a stored file, and a served file cannot run script in our origin."""
import io
import warnings

import pytest
from flask_babel import force_locale
from flask_wtf import FlaskForm
from PIL import Image, ImageFile
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import FileStorage

from channel.extensions import db
from channel.files import services
from channel.files.forms import AttachmentField
from channel.files.models import StoredFile
from channel.files.services import FileRefused, message, send, store


def tiny_pdf(text_: str = "Receipt") -> bytes:
    """A minimal valid one-page PDF, with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 20 50 Td ({text_}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def image(fmt: str, size=(40, 30), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 1 if mode == "1" else (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


def upload(content: bytes, filename: str, content_type: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=filename, content_type=content_type)


def refusal(app, data) -> FileRefused:
    with app.app_context():
        with pytest.raises(FileRefused) as info:
            store(data)
        return info.value


def count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(StoredFile)).scalar_one()


@pytest.mark.parametrize("make, mime", [(tiny_pdf, "application/pdf"),
                                        (lambda: image("PNG"), "image/png"),
                                        (lambda: image("JPEG"), "image/jpeg")])
def test_pdf_png_and_jpeg_are_stored_with_the_type_their_bytes_have(app, make, mime):
    content = make()
    with app.app_context():
        # The name and the browser's type say otherwise: only the bytes count.
        stored = store(upload(content, "scan.gif", "text/html"))
        db.session.commit()
        sha = stored.sha256
    with app.app_context():
        row = db.session.get(StoredFile, sha)
        assert (row.mime, row.size, row.content) == (mime, len(content), content)
        assert row.created_at.tzinfo is not None


@pytest.mark.parametrize("content", [
    b"<!doctype html><html><script>alert(document.cookie)</script></html>",
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200),  # a Windows .exe
    image("GIF"),
    b" %PDF-1.4 not at the start",
], ids=["html", "exe", "gif", "pdf-later"])
def test_other_files_named_pdf_are_refused(app, content):
    err = refusal(app, upload(content, "invoice.pdf", "application/pdf"))
    assert err.code == "type_not_allowed"
    assert count(app) == 0


@pytest.mark.parametrize("content, kind", [
    (image("PNG")[:-20], "PNG"),                      # truncated: IEND and the last CRC are gone
    (image("PNG", (300, 200))[:200], "PNG"),
    (image("JPEG", (300, 200))[:-300], "JPEG"),       # the scan ends early
    (image("JPEG")[:-2], "JPEG"),                     # no end-of-image marker
    (tiny_pdf()[:-30], "PDF"),                         # cut before %%EOF
])
def test_damaged_files_are_refused(app, content, kind):
    err = refusal(app, content)
    assert (err.code, err.kind) == ("damaged", kind)


def test_a_truncated_jpeg_is_damaged_even_after_weasyprint_told_pillow_to_pad_it(app, monkeypatch):
    import weasyprint  # noqa: F401  (sets ImageFile.LOAD_TRUNCATED_IMAGES = True on import)

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert refusal(app, image("JPEG", (300, 200))[:-300]).code == "damaged"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # put back for WeasyPrint


def test_a_decompression_bomb_is_damaged(app):
    # 20000 x 10000 pixels in a few KB: beyond twice Pillow's limit, Pillow raises.
    assert refusal(app, image("PNG", (20000, 10000), mode="1")).code == "damaged"


def test_an_image_over_the_pixel_limit_is_damaged_even_where_warnings_are_ignored(app):
    # Between the limit and twice the limit Pillow only warns; production does not turn warnings
    # into errors as pytest does here, so store() must.
    bomb = image("PNG", (10000, 10000), mode="1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert refusal(app, bomb).code == "damaged"


def test_empty_is_refused(app):
    assert refusal(app, b"").code == "empty"
    assert refusal(app, upload(b"", "x.pdf", "application/pdf")).code == "empty"


def test_over_the_limit_is_refused_after_reading_one_byte_more(app):
    app.config["ATTACHMENT_MAX_BYTES"] = 512 * 1024
    content = image("PNG") + bytes(600 * 1024)
    file = upload(content, "big.png", "image/png")
    err = refusal(app, file)
    assert (err.code, err.limit_mb) == ("too_large", 0.5)
    assert file.stream.tell() == 512 * 1024 + 1
    with app.test_request_context(), force_locale("en"):
        assert message(err) == "The file is larger than 0.5 MB."
    # Exactly at the limit is fine.
    pdf = tiny_pdf()
    app.config["ATTACHMENT_MAX_BYTES"] = len(pdf)
    with app.app_context():
        assert store(pdf).size == len(pdf)


def test_the_same_bytes_twice_are_one_row(app):
    pdf = tiny_pdf()
    with app.app_context():
        first = store(upload(pdf, "a.pdf", "application/pdf"))
        db.session.commit()
        sha = first.sha256
    with app.app_context():
        again = store(upload(pdf, "b.pdf", "application/pdf"))
        assert again.sha256 == sha
        db.session.commit()
    assert count(app) == 1
    with app.app_context():
        assert store(tiny_pdf("Another")).sha256 != sha
        db.session.commit()
    assert count(app) == 2


def test_storing_bytes_another_request_stored_a_moment_ago_gives_their_row(app, monkeypatch):
    """The race: both requests see no row, the second insert hits the primary key."""
    pdf = tiny_pdf()
    with app.app_context():
        store(pdf)
        db.session.commit()
    with app.app_context():
        real_get = db.session.get
        calls = []

        def get_missing_first(*args, **kw):
            calls.append(args)
            return None if len(calls) == 1 else real_get(*args, **kw)

        monkeypatch.setattr(db.session, "get", get_missing_first)
        stored = store(pdf)
        assert len(calls) == 2  # the check, then the row after the refused insert
        assert stored.size == len(pdf)
        # The outer transaction survived the refused insert (PostgreSQL aborts it otherwise).
        db.session.execute(text("SELECT 1"))
        db.session.commit()
    assert count(app) == 1


@pytest.mark.parametrize("sql", ["UPDATE stored_files SET mime = 'image/png'",
                                 "UPDATE stored_files SET content = :empty",
                                 "DELETE FROM stored_files"])
def test_the_database_refuses_to_change_a_stored_file(app, sql):
    with app.app_context():
        store(tiny_pdf())
        db.session.commit()
        with pytest.raises(DBAPIError):  # IntegrityError on PostgreSQL, a subclass
            db.session.execute(text(sql), {"empty": b""})
        db.session.rollback()
    assert count(app) == 1


def test_the_database_refuses_other_types(app):
    with app.app_context():
        with pytest.raises(DBAPIError):
            db.session.execute(text("INSERT INTO stored_files (sha256, content, size, mime, created_at) "
                                    "VALUES ('x', :c, 1, 'text/html', CURRENT_TIMESTAMP)"), {"c": b"<"})
        db.session.rollback()


def test_messages(app):
    with app.test_request_context(), force_locale("en"):
        assert message(FileRefused("empty")) == "The file is empty."
        assert message(FileRefused("too_large", limit_mb=5)) == "The file is larger than 5 MB."
        assert message(FileRefused("type_not_allowed")) == "Only PDF, JPEG and PNG files are accepted."
        assert message(FileRefused("damaged", kind="PNG")) == (
            "The file could not be read: it is damaged or not really a PNG.")
    assert app.config["ATTACHMENT_MAX_BYTES"] == 5 * 1024 * 1024
    with app.app_context():
        err = refusal(app, bytes(5 * 1024 * 1024 + 1))
    with app.test_request_context(), force_locale("en"):
        assert message(err) == "The file is larger than 5 MB."


def test_send_inline_and_as_download_with_a_chinese_name(app):
    pdf = tiny_pdf()
    with app.app_context():
        stored = store(pdf)
        db.session.commit()
        sha = stored.sha256
    with app.test_request_context():
        stored = db.session.get(StoredFile, sha)
        resp = send(stored, "发票.pdf")
        resp.direct_passthrough = False
        assert resp.get_data() == pdf
        assert resp.mimetype == "application/pdf"
        disposition = resp.headers["Content-Disposition"]
        assert disposition.startswith("inline;")
        assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf" in disposition
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Security-Policy"] == "sandbox"
        assert resp.headers["Cache-Control"] == "private, max-age=0"
        assert resp.headers["ETag"] == f'"{sha}"'

        resp = send(stored, "receipt 3.pdf", download=True)
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert "receipt 3.pdf" in resp.headers["Content-Disposition"]
        # A control character in a name (a header injection) is dropped, not sent.
        resp = send(stored, "a\r\nSet-Cookie: x=1.pdf")
        assert "\n" not in resp.headers["Content-Disposition"]


def test_a_view_serving_a_file_keeps_its_headers(app):
    """The app's after_request adds its page CSP and no-store only where none is set."""
    png = image("PNG")
    with app.app_context():
        sha = store(png).sha256
        db.session.commit()

    def show():
        return send(db.session.get(StoredFile, sha), "收据.png")

    app.add_url_rule("/_test/file", "test_file", show)
    client = app.test_client()
    resp = client.get("/_test/file")
    assert resp.status_code == 200 and resp.data == png
    assert resp.mimetype == "image/png"
    assert resp.headers["Content-Security-Policy"] == "sandbox"
    assert resp.headers["Cache-Control"] == "private, max-age=0"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/_test/file", headers={"If-None-Match": f'"{sha}"'}).status_code == 304


class UploadForm(FlaskForm):
    class Meta:
        csrf = False

    file = AttachmentField("Attachment")
    optional = AttachmentField("Optional", required=False)


def _form(app, files):
    request = app.test_request_context(method="POST", data=dict(files),
                                       content_type="multipart/form-data")
    with request, force_locale("en"):
        form = UploadForm()
        ok = form.validate()
        # What store() would read next (the request closes its files at the end).
        content = form.file.data.stream.read() if form.file.data else None
        return ok, form.errors, content, str(form.file)


def test_the_form_field_asks_for_a_non_empty_file_and_leaves_the_rest_to_store(app):
    ok, errors, content, html = _form(app, {"file": (io.BytesIO(b"<html>"), "x.pdf")})
    assert ok, errors  # content is store()'s business
    assert content == b"<html>"  # the check left the stream at its start
    assert 'accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"' in html
    ok, errors, _, _ = _form(app, {})
    assert not ok and errors == {"file": ["Choose a file."]}  # the optional one may be missing
    ok, errors, _, _ = _form(app, {"file": (io.BytesIO(b""), "")})
    assert not ok and errors == {"file": ["Choose a file."]}
    ok, errors, _, _ = _form(app, {"file": (io.BytesIO(b""), "empty.pdf")})
    assert not ok and errors == {"file": ["The file is empty."]}


def test_detect_reads_the_content_only():
    assert services.detect(tiny_pdf()) == "application/pdf"
    with pytest.raises(FileRefused):
        services.detect(b"%PD")
