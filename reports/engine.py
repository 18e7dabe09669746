"""The report engine: Jinja templates under templates/reports rendered to PDF by WeasyPrint.

Flask-free on purpose: a worker process needs no app, no database and no request, only the
template, a context of plain picklable data (amounts in integer fen) and a language.

Adding a report kind is one line plus one template::

    register("ageing", "ageing.html")   # templates/reports/ageing.html, {% extends "base.html" %}

`render_pdf(kind, context, lang)` does the work in the calling process; batches and anything that
runs on behalf of a web request go through `reports.pool` (worker processes with time and memory
limits).

Safety: templates autoescape everything they print, so a name containing HTML, CSS or a URL prints
as text; and WeasyPrint fetches through `AssetFetcher`, which serves files under templates/reports
and refuses every other URL at once (no network, no other file, no data: URLs).

Speed: per process and language the Jinja environment, the parsed stylesheet (`weasyprint.CSS`)
and one `FontConfiguration` are built once and reused; see benchmarks/reports.py for the figures.
"""
from __future__ import annotations

import atexit
import hashlib
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import babel
import jinja2
import weasyprint
from babel import Locale
from babel.dates import format_datetime, get_date_format, match_skeleton, parse_pattern
from babel.support import NullTranslations, Translations
from markupsafe import Markup
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from channel.core.money import format_fen

# Bump when a change in this module alters the PDFs it makes (it is part of the fingerprint).
ENGINE_VERSION = "1"

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "templates" / "reports"
STYLESHEET = "report.css"
# Noto Sans CJK SC Regular cut down to GB2312 and the Latin, punctuation and symbol blocks (8,000
# glyphs instead of 65,535): WeasyPrint subsets the embedded font in every PDF, and that costs in
# proportion to the font's glyph count, a third of a one-page render with the full font. Text
# outside it falls back to the system's full Noto Sans CJK SC (report.css). make_report_font()
# rebuilds it from fonts-noto-cjk.
REPORT_FONT = ASSETS / "fonts" / "NotoSansCJKsc-Report.otf"
SYSTEM_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
TRANSLATIONS_DIR = ROOT / "channel" / "translations"
LANGUAGES = ("zh_CN", "en")
# Timestamps in the context are aware UTC; people read them in the business time zone, this one
# unless the context names another under "timezone" (e.g. the app's CHANNEL_TIMEZONE).
DEFAULT_TIMEZONE = "Asia/Shanghai"


class ReportError(Exception):
    """A report that cannot be rendered: unknown kind or language, missing catalog."""


@dataclass(frozen=True)
class Kind:
    name: str
    template: str  # a file name relative to templates/reports
    source: str | None = None  # the template's text, for a kind that has no file (tests)


KINDS: dict[str, Kind] = {}

# Per-process caches: built on first use, reused by every render in the process.
_lock = threading.Lock()
_environments: dict[str, jinja2.Environment] = {}
_translations: dict[str, NullTranslations] = {}
_stylesheet: dict[str, object] = {}
_font_config: FontConfiguration | None = None
_fingerprints: dict[str, str] = {}


def register(kind: str, template: str, *, source: str | None = None) -> Kind:
    """Make `kind` renderable with templates/reports/<template>. `source` gives the template's
    text instead of a file (for kinds made up at run time, e.g. by tests); `reports.pool` hands the
    registry to its workers, so register before starting a pool."""
    if not source and not (ASSETS / template).is_file():
        raise ReportError(f"no template {template!r} in {ASSETS}")
    entry = KINDS[kind] = Kind(kind, template, source)
    _environments.clear()
    _fingerprints.pop(kind, None)
    return entry


def install_kinds(kinds: dict[str, Kind]) -> None:
    """Replace the registry with a snapshot taken in another process (the pool's workers)."""
    KINDS.clear()
    KINDS.update(kinds)
    _environments.clear()
    _fingerprints.clear()


register("settlement", "settlement.html")
register("expense_voucher", "expense_voucher.html")  # 报销单: channel/expenses/voucher.py
register("plan_actual", "plan_actual.html")  # 旬计划 plan versus actual per region: channel/plans/reports.py
register("meeting_minutes", "meeting_minutes.html")  # 会议纪要: channel/meetings/minutes.py
register("promotion_settlement", "promotion_settlement.html")  # 促销结算单: channel/promotions/settlement.py


# --- fetching ------------------------------------------------------------------------------


class AssetFetcher(URLFetcher):
    """WeasyPrint's URL fetcher, restricted to the files under templates/reports.

    Everything else (http:, https:, ftp:, data:, any other file:) raises at once: no network
    access, no time-out to wait for, and nothing outside the assets is read. Paths are resolved
    (symlinks, "..") before the check."""

    def __init__(self, root: Path = ASSETS):
        super().__init__(timeout=1, allowed_protocols=("file",), allow_redirects=False)
        self.root = root.resolve()

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"report assets only: refused {url[:200]!r}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"report assets only: refused {url[:200]!r}")
        return super().fetch(path.as_uri(), headers)


# --- the Jinja environment -------------------------------------------------------------------


def translations(lang: str) -> NullTranslations:
    """The app's catalog for `lang` ("zh_CN" is found in translations/zh_Hans_CN: Babel parses
    the code as Locale('zh', 'CN', script='Hans') and looks the catalog up under that name)."""
    if lang not in LANGUAGES:
        raise ReportError(f"unsupported language {lang!r}; one of {', '.join(LANGUAGES)}")
    found = _translations.get(lang)
    if found is None:
        # A Locale, not the string: Translations.load looks a string up verbatim ("zh_CN/").
        found = Translations.load(str(TRANSLATIONS_DIR), [Locale.parse(lang)])
        if lang != "en" and not isinstance(found, Translations):
            raise ReportError(
                f"no compiled catalog for {lang} under {TRANSLATIONS_DIR}: "
                "run .venv/bin/pybabel compile -d channel/translations (bin/setup does)"
            )
        _translations[lang] = found
    return found


def _labels():
    # channel.i18n holds LABELS as Flask-Babel lazy strings; only their msgids are used here.
    from channel.i18n import LABELS

    return LABELS


def _make_label(catalog):
    labels = _labels()

    def label(value, group):
        text = labels.get(group, {}).get(value)
        if text is None:
            return "" if value is None else value
        msgid = text._args[0] if hasattr(text, "_args") else str(text)
        return catalog.ugettext(msgid)

    return label


def _money(fen):
    """Integer fen as ¥1,234.50; a negative figure keeps its sign in front: -¥1,234.50."""
    return format_fen(fen)


def _css_string(text: str) -> str:
    """`text` as a CSS string literal that cannot end the string, the rule or the style element."""
    out = []
    for ch in text:
        if ch in '"\\<>&' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def page_counter(text: str) -> Markup:
    """The CSS `content` value for a translated "Page %(page)s of %(pages)s": the words as CSS
    strings, the placeholders as counter(page) and counter(pages), in the translator's order."""
    pieces = []
    rest = str(text)
    while rest:
        found = [(rest.find(f"%({name})s"), name) for name in ("page", "pages")]
        found = [(at, name) for at, name in found if at >= 0]
        if not found:
            pieces.append(_css_string(rest))
            break
        at, name = min(found)
        if at:
            pieces.append(_css_string(rest[:at]))
        pieces.append(f"counter({name})")
        rest = rest[at + len(f"%({name})s"):]
    return Markup(" ".join(pieces))


def environment(lang: str) -> jinja2.Environment:
    env = _environments.get(lang)
    if env is not None:
        return env
    with _lock:
        env = _environments.get(lang)
        if env is not None:
            return env
        catalog = translations(lang)
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([
                jinja2.DictLoader({k.template: k.source for k in KINDS.values() if k.source}),
                jinja2.FileSystemLoader(str(ASSETS)),
            ]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        env.install_gettext_translations(catalog, newstyle=True)
        tz = ZoneInfo(DEFAULT_TIMEZONE)
        locale = Locale.parse(lang)
        label = _make_label(catalog)
        patterns = {}

        def date_pattern(fmt):
            # Resolved once per format: Babel's own helpers parse the locale and the pattern on
            # every call, a tenth of a millisecond that adds up over a 600-line statement.
            found = patterns.get(fmt)
            if found is None:
                if fmt in ("short", "medium", "long", "full"):
                    found = get_date_format(fmt, locale)
                else:
                    skeletons = locale.datetime_skeletons
                    found = parse_pattern(skeletons[match_skeleton(fmt, skeletons)])
                patterns[fmt] = found
            return found

        def date_filter(value, fmt="medium"):
            """A Babel format name (short, medium, long, full) or a CLDR skeleton ("yMd"),
            in the report's language."""
            if not value:
                return ""
            if isinstance(value, datetime):
                value = value.date()
            return date_pattern(fmt).apply(value, locale)

        @jinja2.pass_context
        def datetime_filter(context, value, fmt="medium"):
            """An aware timestamp in the business time zone (the context's optional "timezone",
            else Asia/Shanghai)."""
            if not value:
                return ""
            name = context.get("timezone")
            zone = ZoneInfo(name) if name else tz
            return format_datetime(value, fmt, tzinfo=zone, locale=locale)

        env.filters.update(money=_money, date=date_filter, datetime=datetime_filter, label=label)
        env.globals.update(
            label=label, lang=lang, html_lang="zh-CN" if lang == "zh_CN" else "en",
            assets_url=ASSETS.as_uri() + "/",
            page_counter=page_counter, stylesheet=_stylesheet_text,
        )
        _environments[lang] = env
        return env


def _stylesheet_text() -> Markup:
    return Markup((ASSETS / STYLESHEET).read_text(encoding="utf-8"))


def stylesheet() -> weasyprint.CSS:
    """templates/reports/report.css parsed once per process."""
    css = _stylesheet.get("css")
    if css is None:
        css = _stylesheet["css"] = weasyprint.CSS(
            string=(ASSETS / STYLESHEET).read_text(encoding="utf-8"),
            base_url=ASSETS.as_uri() + "/", url_fetcher=AssetFetcher(),
            font_config=font_config(),
        )
    return css


def font_config() -> FontConfiguration:
    """One FontConfiguration per process: building it loads fontconfig's cache, and it keeps the
    report font (an @font-face) loaded."""
    global _font_config
    if _font_config is None:
        _font_config = FontConfiguration()
        # It copies @font-face fonts into a temporary directory that only its __del__ removes,
        # which need not run at exit.
        atexit.register(_remove_font_files, _font_config)
    return _font_config


def _remove_font_files(config: FontConfiguration) -> None:
    folder = getattr(config, "_folder", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


# --- rendering -----------------------------------------------------------------------------


def _template(kind: str, lang: str) -> jinja2.Template:
    entry = KINDS.get(kind)
    if entry is None:
        raise ReportError(f"unknown report kind {kind!r}; registered: {', '.join(sorted(KINDS))}")
    return environment(lang).get_template(entry.template)


def render_html(kind: str, context: dict, lang: str) -> str:
    """The report as one self-contained HTML document (its stylesheet inline)."""
    return _template(kind, lang).render(context, inline_css=True)


def render_pdf(kind: str, context: dict, lang: str) -> bytes:
    """The report as PDF bytes, rendered in this process.

    The same document as render_html, except that the stylesheet is given to WeasyPrint as the
    per-process parsed `weasyprint.CSS` instead of inline text to be parsed again."""
    html = _template(kind, lang).render(context, inline_css=False)
    fetcher = AssetFetcher()
    document = weasyprint.HTML(
        string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher,
    )
    return document.write_pdf(stylesheets=[stylesheet()], font_config=font_config())


# --- content addressing ----------------------------------------------------------------------


def fingerprint(kind: str) -> str:
    """sha256 over everything besides the context that shapes the PDF of `kind`: every file under
    templates/reports (templates include and extend each other; the stylesheet), the kind's
    registration, both languages' catalogs (their messages, not the file: a new unrelated header
    date must not count), and the versions of this engine, WeasyPrint, Jinja and Babel (dates).

    Same context + same fingerprint -> same PDF, so the archive need not render it again."""
    found = _fingerprints.get(kind)
    if found is not None:
        return found
    entry = KINDS.get(kind)
    if entry is None:
        raise ReportError(f"unknown report kind {kind!r}")
    h = hashlib.sha256()

    def part(*items):
        for item in items:
            data = item if isinstance(item, bytes) else str(item).encode("utf-8")
            h.update(len(data).to_bytes(8, "big"))
            h.update(data)

    part("engine", ENGINE_VERSION, "weasyprint", weasyprint.__version__,
         "jinja2", jinja2.__version__, "babel", babel.__version__)
    part("kind", entry.name, entry.template, entry.source or "")
    for path in sorted(p for p in ASSETS.rglob("*") if p.is_file()):
        part(path.relative_to(ASSETS).as_posix(), path.read_bytes())
    for lang in LANGUAGES:
        catalog = getattr(translations(lang), "_catalog", {})
        part("catalog", lang)
        for msgid, msgstr in sorted(catalog.items(), key=repr):
            part(repr(msgid), repr(msgstr))
    found = _fingerprints[kind] = h.hexdigest()
    return found


# --- the report font ---------------------------------------------------------------------------


def report_font_chars() -> set[int]:
    """The code points the report font keeps: GB2312 (6,763 hanzi, kana, Greek, Cyrillic, symbols),
    Latin-1 and Latin Extended-A/B, general punctuation, currency, letterlike symbols, circled
    numbers, CJK punctuation and the fullwidth forms."""
    chars = set(range(0x20, 0x7F))
    for start, end in [(0xA0, 0x250), (0x2000, 0x2070), (0x20A0, 0x20C0), (0x2100, 0x2190),
                       (0x2460, 0x2500), (0x3000, 0x3040), (0xFF00, 0xFFF0)]:
        chars.update(range(start, end))
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return chars


def make_report_font(source: Path = SYSTEM_FONT, out: Path = REPORT_FONT) -> Path:
    """Cut Noto Sans CJK SC (the SC face of fonts-noto-cjk's collection) down to
    report_font_chars(), without hinting and GSUB features (horizontal Chinese and Latin need
    neither; kerning is kept). About ten seconds. Run `python -m reports.engine make-font`."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    options = subset.Options()
    options.hinting = False
    options.notdef_outline = True
    options.layout_features = ["kern"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=report_font_chars())
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(".tmp")
    if source.suffix == ".ttc":
        with TTCollection(str(source), lazy=True, recalcTimestamp=False) as collection:
            font = next(f for f in collection.fonts
                        if f["name"].getDebugName(1) == "Noto Sans CJK SC")
            subsetter.subset(font)
            font.save(str(temporary))
    else:
        with TTFont(str(source), lazy=True, recalcTimestamp=False) as font:
            subsetter.subset(font)
            font.save(str(temporary))
    temporary.replace(out)
    return out


__all__ = [
    "ASSETS", "ENGINE_VERSION", "KINDS", "LANGUAGES", "AssetFetcher", "Kind", "ReportError",
    "fingerprint", "make_report_font", "register", "render_html", "render_pdf",
]


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["make-font"]:
        sys.exit("usage: python -m reports.engine make-font")
    print(make_report_font())
