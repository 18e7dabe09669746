"""The form field for one uploaded attachment.

It only checks that a file was sent: what the bytes are (type, size, damage) is decided by
services.store(), from the content. A view calls store(form.field.data) and shows
services.message(err) on the field when it refuses the file.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms.validators import StopValidation

# A hint for the browser's file picker, nothing more.
ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"


class AttachmentRequired(FileRequired):
    """A file was chosen (it has a name) and it is not empty."""

    def __call__(self, form, field):
        super().__call__(form, field)
        stream = field.data.stream
        if stream.seekable():
            end = stream.seek(0, 2)
            stream.seek(0)
            if end == 0:
                raise StopValidation(_l("The file is empty."))


class AttachmentField(FileField):
    """A PDF, JPEG or PNG file input; required unless required=False."""

    def __init__(self, label=None, validators=None, *, required=True, **kwargs):
        first = [AttachmentRequired(_l("Choose a file."))] if required else []
        kwargs.setdefault("render_kw", {"accept": ACCEPT})
        super().__init__(label, first + list(validators or []), **kwargs)
