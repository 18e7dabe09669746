"""The Chinese catalog is complete, consistent and current, and the app really loads it.

No database: these read channel/translations and the source. When a test here fails because
of new strings, run channel/translations/update.sh and translate what it lists.
"""
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "channel" / "translations"
UPDATE_SCRIPT = TRANSLATIONS / "update.sh"
# Babel calls the locale "zh_CN" zh_Hans_CN and Flask-Babel looks the catalog up under that name.
CHINESE = "zh_Hans_CN"
PO_PATH = TRANSLATIONS / CHINESE / "LC_MESSAGES" / "messages.po"

# A printf-style placeholder (%(name)s, %s, %d, %%), or a lone % that is none of them.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z%]|%")
FIX = "Run channel/translations/update.sh, translate, and run it again."


def _read(path):
    with open(path, "rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def catalog():
    assert PO_PATH.is_file(), f"{PO_PATH} is missing. {FIX}"
    return _read(PO_PATH)


def _messages(catalog):
    return [m for m in catalog if m.id]


def _ids(message):
    return message.id if isinstance(message.id, (tuple, list)) else (message.id,)


def _strings(message):
    return message.string if isinstance(message.string, (tuple, list)) else (message.string,)


def _show(message):
    where = ", ".join(f"{f}:{n}" for f, n in message.locations[:3])
    return f"{' | '.join(_ids(message))!r}" + (f" ({where})" if where else "")


def test_catalog_header_is_not_fuzzy(catalog):
    # pybabel compile silently skips a catalog whose header is marked fuzzy.
    assert not catalog.fuzzy, f"the header of {PO_PATH} is marked fuzzy: remove '#, fuzzy'"


def test_every_message_is_translated(catalog):
    messages = _messages(catalog)
    assert messages, f"{PO_PATH} holds no messages. {FIX}"
    empty = [_show(m) for m in messages if not all(s and s.strip() for s in _strings(m))]
    fuzzy = [_show(m) for m in messages if m.fuzzy]
    assert not empty, f"{len(empty)} untranslated in {PO_PATH.name}:\n  " + "\n  ".join(empty)
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {PO_PATH.name}:\n  " + "\n  ".join(fuzzy)


def test_placeholders_match(catalog):
    wrong = []
    for m in _messages(catalog):
        # The plural msgid carries every placeholder a translation may use.
        expected = Counter(PLACEHOLDER.findall(_ids(m)[-1]))
        for s in _strings(m):
            if s and Counter(PLACEHOLDER.findall(s)) != expected:
                wrong.append(f"{_show(m)} -> {s!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n  " + "\n  ".join(wrong)


def test_babel_checkers_pass(catalog):
    problems = [f"{_show(m)}: {'; '.join(map(str, errors))}" for m, errors in catalog.check()]
    assert not problems, "\n".join(problems)


def test_every_source_string_is_in_the_catalog(catalog, tmp_path):
    """Re-extract with the project's own settings (update.sh) and compare with the .po."""
    pot = tmp_path / "current.pot"
    env = dict(os.environ, PYBABEL=str(Path(sys.executable).with_name("pybabel")))
    done = subprocess.run(
        ["bash", str(UPDATE_SCRIPT), "--extract-only", str(pot)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, f"extraction failed:\n{done.stdout}\n{done.stderr}"
    extracted = _messages(_read(pot))
    assert len(extracted) > 50, "suspiciously few strings extracted: check babel.cfg"
    # templates/_macros must be scanned too (Babel's default directory filter skips "_*").
    assert any(f.startswith("templates/_macros/") for m in extracted for f, _ in m.locations)
    known = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in _messages(catalog)}
    missing = [_show(m) for m in extracted
               if (m.context, m.id if isinstance(m.id, str) else m.id[0]) not in known]
    assert not missing, (
        f"{len(missing)} string(s) in the source are not in {PO_PATH.name}. {FIX}\n  "
        + "\n  ".join(missing)
    )


def test_catalog_directories_are_named_as_babel_names_the_locale():
    """Flask-Babel looks a catalog up under str(Locale.parse(code)): zh_CN is 'zh_Hans_CN',
    so a catalog in zh_CN/ (what `pybabel init -l zh_CN` makes) would never be loaded."""
    from babel import Locale

    dirs = [p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")]
    assert CHINESE in dirs
    wrong = {d: str(Locale.parse(d)) for d in dirs if str(Locale.parse(d)) != d}
    assert not wrong, f"rename these catalog directories (found -> expected): {wrong}"


@pytest.fixture(scope="module")
def compiled_dir(tmp_path_factory, catalog):
    """The catalogs compiled into a scratch directory with the repository's layout, so that the
    test neither needs nor trusts a previously compiled (gitignored) .mo file."""
    out = tmp_path_factory.mktemp("translations")
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        target = out / po.relative_to(TRANSLATIONS).with_suffix(".mo")
        target.parent.mkdir(parents=True)
        with open(target, "wb") as f:
            write_mo(f, _read(po))
    return out


@pytest.fixture(scope="module")
def chinese_app(compiled_dir):
    from channel import create_app
    from config import TestingConfig

    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://",
                      BABEL_TRANSLATION_DIRECTORIES=str(compiled_dir))


def test_the_app_loads_the_chinese_catalog(chinese_app, catalog):
    """The catalog's directory name must be the one Flask-Babel looks for (zh_CN -> zh_Hans_CN)."""
    from flask import render_template_string
    from flask_babel import get_locale, gettext

    sample = next(m for m in _messages(catalog)
                  if isinstance(m.id, str) and not m.context and "%" not in m.id)
    with chinese_app.test_request_context(headers={"Accept-Language": "zh-CN,zh;q=0.9"}):
        assert str(get_locale()).startswith("zh")
        assert gettext(sample.id) == sample.string, (
            f"a zh_CN request does not get {PO_PATH.relative_to(ROOT)}: is the directory named "
            f"after str(get_locale()) = {get_locale()}?"
        )
        assert render_template_string("{{ _(s) }}", s=sample.id) == sample.string
    with chinese_app.test_request_context(headers={"Accept-Language": "en"}):
        assert gettext(sample.id) == sample.id


def test_wtforms_messages_are_chinese(chinese_app):
    """WTForms' own messages come from its bundled catalogs (WTF_I18N_ENABLED)."""
    from flask_wtf import FlaskForm
    from wtforms import StringField
    from wtforms.validators import DataRequired

    class Form(FlaskForm):
        class Meta:
            csrf = False

        name = StringField("name", validators=[DataRequired()])

    with chinese_app.test_request_context(
        "/", method="POST", data={}, headers={"Accept-Language": "zh-CN"}
    ):
        form = Form()
        assert not form.validate()
        assert form.name.errors == ["该字段是必填字段。"]
