"""The report engine renders in this process: no app, no database, contexts built by hand.

The PDFs are read back with pypdf: their text (figures to the fen, labels, page footers) and
their font list (a CJK font must be embedded: extracted text alone proves nothing, WeasyPrint
writes the text map even when the glyphs are boxes)."""
import io
import re
import subprocess
import time
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from channel.core.money import format_fen
from reports import engine

from . import settlement_context

HOSTILE_NAME = ('<b>x</b><img src="file:///etc/passwd">'
                '<link rel=stylesheet href="http://127.0.0.1:9/x.css">'
                '<style>*{display:none}</style>')
ASSETS_URL = engine.ASSETS.as_uri() + "/"
HOSTILE_DESCRIPTION = 'background: url(file:///etc/passwd); @import "http://127.0.0.1:9/y.css";'


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def squeeze(text: str) -> str:
    """Without whitespace: pypdf breaks wrapped cells into lines and spaces letter-spaced text."""
    return re.sub(r"\s+", "", text)


def figures(context) -> list[int]:
    found = [context["opening_fen"], context["closing_fen"], context["debit_total_fen"],
             context["credit_total_fen"], context["overdue_fen"], context["credit_limit_fen"],
             context["available_credit_fen"]]
    for line in context["lines"]:
        found += [line["balance_fen"]] + [x for x in (line["debit_fen"], line["credit_fen"]) if x]
    found += [t["amount_fen"] for t in context["totals"]]
    return found


@pytest.fixture
def kinds():
    """Register throw-away report kinds; the registry is put back afterwards."""
    saved = dict(engine.KINDS)
    yield engine.register
    engine.install_kinds(saved)


@pytest.fixture(scope="module")
def one_page():
    context = settlement_context(9)
    return context, {lang: engine.render_pdf("settlement", context, lang)
                     for lang in engine.LANGUAGES}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_figure_reads_back_exactly(one_page, lang):
    context, pdfs = one_page
    pages = pages_text(pdfs[lang])
    assert len(pages) == 1
    text = pages[0]
    for fen in figures(context):
        assert format_fen(fen) in text, (fen, format_fen(fen))
    for line in context["lines"]:
        assert line["number"] in text
    # Negative totals (payments, returns and rebates are credits) keep their sign.
    assert any(t["amount_fen"] < 0 for t in context["totals"])
    assert "-¥" in text


def test_the_same_context_gives_the_same_bytes(one_page):
    """The archive content-addresses PDFs: no timestamp or random identifier may creep in."""
    context, pdfs = one_page
    assert engine.render_pdf("settlement", context, "zh_CN") == pdfs["zh_CN"]


def test_the_report_is_in_the_language_asked_for(one_page):
    context, pdfs = one_page
    zh, en = (squeeze(pages_text(pdfs[lang])[0]) for lang in ("zh_CN", "en"))
    assert "月度结算单" in zh and "Monthly settlement statement" not in zh
    assert "Monthlysettlementstatement" in en and "月度结算单" not in en
    for chinese, english in [("期初余额", "Openingbalance"), ("期末余额", "Closingbalance"),
                             ("发货单", "Shipment"), ("回款", "Paymentreceived"),
                             ("对账状态：尚未确认", "Reconciliation:notyetconfirmed"),
                             ("签字", "Signature"), ("盖章", "Seal"), ("总经销", "Generaldistributor"),
                             ("2026年10月1日", "Oct1,2026")]:
        assert chinese in zh, chinese
        assert english in en, english
        assert english not in zh
    # Names are data: Chinese in both languages.
    for text in (zh, en):
        assert context["account"]["name"] in text
        assert context["company"]["name"] in text


def _fonts(pdf: bytes) -> list[dict]:
    """Every font the pages use: base name and whether its program is embedded."""
    found = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = {"subtype": str(font["/Subtype"]),
                                              "embedded": embedded}
    return [{"name": name, **info} for name, info in found.items()]


CJK_SC = re.compile(r"Noto.?(Sans|Serif).?CJK.?SC", re.I)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_cjk_font_is_embedded_and_no_other(one_page, lang):
    fonts = _fonts(one_page[1][lang])
    assert all(f["embedded"] for f in fonts), fonts
    # Only the report's cut-down Noto Sans CJK SC: every character of the statement is in it (the
    # fast path), and any other font would be a fallback for a glyph it lacks.
    assert [f["name"].split("+")[-1] for f in fonts] == ["Noto-Sans-CJK-SC-Report"], fonts


def _cmap(path, face_name=None):
    from fontTools.ttLib import TTCollection, TTFont

    if str(path).endswith(".ttc"):
        with TTCollection(str(path), lazy=True) as collection:
            font = next(f for f in collection.fonts if f["name"].getDebugName(1) == face_name)
            return dict(font.getBestCmap())
    with TTFont(str(path), lazy=True) as font:
        return dict(font.getBestCmap())


@pytest.fixture(scope="module")
def system_cmap():
    match = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC"],
                           capture_output=True, text=True, check=True).stdout
    assert "NotoSansCJK" in match, f"fontconfig has no Noto Sans CJK SC (got {match})"
    return _cmap(match, "Noto Sans CJK SC")


def test_the_report_font_is_current_and_has_every_character_printed(one_page, system_cmap):
    """No tofu, and no silent fallback: the shipped font covers the character set the engine
    defines (as far as Noto Sans CJK SC has it) and every character of the statement in both
    languages."""
    cmap = _cmap(engine.REPORT_FONT)
    missing = (engine.report_font_chars() & set(system_cmap)) - set(cmap)
    assert not missing, f"rebuild: python -m reports.engine make-font ({len(missing)} missing)"
    for lang in ("zh_CN", "en"):
        text = "".join(pages_text(one_page[1][lang]))
        assert not sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap})


def test_rarer_characters_fall_back_to_the_full_font(system_cmap):
    name = "王堃镕喆贸易有限公司"  # 堃 镕 喆 are not in GB2312
    assert {ord(c) for c in "堃镕喆"}.isdisjoint(engine.report_font_chars())
    pdf = engine.render_pdf("settlement", settlement_context(2, account_name=name), "zh_CN")
    fonts = _fonts(pdf)
    assert all(f["embedded"] and CJK_SC.search(f["name"]) for f in fonts), fonts
    assert {f["name"].split("+")[-1] for f in fonts} == {
        "Noto-Sans-CJK-SC-Report", "Noto-Sans-CJK-SC"}
    text = pages_text(pdf)[0]
    assert name in text
    assert all(ord(ch) in system_cmap for ch in text if not ch.isspace())


@pytest.mark.parametrize("lang, footer", [
    ("zh_CN", "第{page}页/共{pages}页"), ("en", "Page{page}of{pages}"),
])
def test_a_long_statement_pages_with_footer_and_repeated_header(lang, footer):
    context = settlement_context(40)
    pages = [squeeze(t) for t in pages_text(engine.render_pdf("settlement", context, lang))]
    assert len(pages) >= 2
    header = ["单号", "摘要", "借方", "贷方"] if lang == "zh_CN" else \
        ["Number", "Description", "Debit", "Credit"]
    for number, text in enumerate(pages, 1):
        assert footer.format(page=number, pages=len(pages)) in text
        assert all(h in text for h in header), f"no table header on page {number}"
        assert context["reference"] in text  # the footer's reference, on every page
        if number > 1:  # the running header: company and title
            assert context["company"]["name"] in text
    # No row is split across pages: each line's number, description and balance share a page.
    for line in context["lines"]:
        on = [i for i, text in enumerate(pages) if line["number"] in text]
        assert len(on) == 1, line["number"]
        text = pages[on[0]]
        assert squeeze(line["description"]) in text
        assert format_fen(line["balance_fen"]) in text
    # Totals and signatures come last.
    assert format_fen(context["closing_fen"]) in pages[-1]
    assert ("盖章" if lang == "zh_CN" else "Seal") in pages[-1]
    assert ("盖章" if lang == "zh_CN" else "Seal") not in "".join(pages[:-1])


def test_reconciliation_when_there_is_one():
    context = settlement_context(3, reconciliation={
        "status": "confirmed", "confirmed_by": "张会计", "note": "已核对无误 <i>ok</i>",
        "confirmed_at": datetime(2026, 11, 3, 1, 30, tzinfo=UTC), "hash": "ab12" * 16,
    })
    text = squeeze(pages_text(engine.render_pdf("settlement", context, "zh_CN"))[0])
    assert "确认人：张会计" in text
    assert "2026/11/3" in text and "09:30" in text  # in Asia/Shanghai
    assert "ab12" * 16 in text
    context["timezone"] = "Europe/Berlin"
    berlin = squeeze(pages_text(engine.render_pdf("settlement", context, "zh_CN"))[0])
    assert "02:30" in berlin and "09:30" not in berlin
    assert "已核对无误<i>ok</i>" in text
    assert "尚未确认" not in text
    # Corrections posted after the month for a dispute: the agreed balance is printed too.
    context["reconciliation"]["agreed_fen"] = 123456
    corrected = squeeze(pages_text(engine.render_pdf("settlement", context, "en"))[0])
    assert "1,234.56" in corrected


def test_optional_figures_and_an_empty_month():
    context = settlement_context(0, credit_limit_fen=None, available_credit_fen=None,
                                 supplier={"code": "GD-BJ01", "name": "北京恒通汽配贸易有限公司"})
    text = squeeze(pages_text(engine.render_pdf("settlement", context, "en"))[0])
    assert "Noentriesinthismonth." in text
    assert "GD-BJ01" in text


# --- escaping and fetching ----------------------------------------------------------------


class Recorder:
    """Wraps AssetFetcher.fetch: every URL WeasyPrint asks for, and whether it was served."""

    def __init__(self, monkeypatch):
        self.calls = []
        original = engine.AssetFetcher.fetch
        recorder = self

        def fetch(fetcher, url, headers=None):
            try:
                response = original(fetcher, url, headers)
            except Exception:
                recorder.calls.append((url, False))
                raise
            recorder.calls.append((url, True))
            return response

        monkeypatch.setattr(engine.AssetFetcher, "fetch", fetch)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_html_css_and_urls_in_data_print_as_text(monkeypatch, lang):
    recorder = Recorder(monkeypatch)
    context = settlement_context(4, account_name=HOSTILE_NAME)
    context["lines"][1]["description"] = HOSTILE_DESCRIPTION
    context["company"]["address"] = '"; } @page { @bottom-right { content: "x" } } /*'

    html = engine.render_html("settlement", context, lang)
    assert "<b>x</b>" not in html and "<img" not in html and "<link" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html

    started = time.perf_counter()
    pdf = engine.render_pdf("settlement", context, lang)
    assert time.perf_counter() - started < 5  # nothing to wait for
    # At most the stylesheet's own font, the first time in this process; nothing from the data.
    assert all(ok and url.startswith(ASSETS_URL) for url, ok in recorder.calls), recorder.calls
    text = squeeze("".join(pages_text(pdf)))
    assert squeeze(HOSTILE_NAME) in text  # printed, so <style> hid nothing
    assert squeeze(HOSTILE_DESCRIPTION) in text
    assert squeeze(context["company"]["address"]) in text
    for fen in figures(context):
        assert format_fen(fen) in text
    assert "root:" not in text


def test_the_fetcher_refuses_everything_but_the_report_assets(tmp_path):
    fetcher = engine.AssetFetcher()
    css = engine.ASSETS / "report.css"
    assert fetcher.fetch(css.as_uri()).read() == css.read_bytes()
    refused = [
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.css",
        "https://example.com/logo.png",
        "ftp://127.0.0.1/x",
        "data:text/css,*{display:none}",
        (engine.ASSETS / ".." / ".." / "config.py").as_uri(),
        engine.ASSETS.as_uri() + "/%2e%2e/%2e%2e/config.py",
        "file://127.0.0.1" + css.as_posix(),
        (engine.ASSETS / "missing.png").as_uri(),
    ]
    started = time.perf_counter()
    for url in refused:
        with pytest.raises(ValueError, match="report assets only"):
            fetcher.fetch(url)
    assert time.perf_counter() - started < 1
    # A link inside the assets that points out of them is refused too.
    root = tmp_path / "assets"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.css").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ValueError):
        engine.AssetFetcher(root).fetch((root / "link.css").as_uri())


def test_a_template_cannot_fetch_outside_the_assets_either(kinds, monkeypatch):
    recorder = Recorder(monkeypatch)
    kinds("test_fetch", "test_fetch.html", source=(
        '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        '<style>@import url("file:///etc/passwd"); p { background: url(http://127.0.0.1:9/b.png) }'
        '</style><img src="file:///etc/passwd"><img src="../../config.py"><p>body</p>'
        '<img src="report.css">'
    ))
    started = time.perf_counter()
    pdf = engine.render_pdf("test_fetch", {}, "en")
    assert time.perf_counter() - started < 5
    assert "body" in pages_text(pdf)[0]
    served = [url for url, ok in recorder.calls if ok]
    refused = [url for url, ok in recorder.calls if not ok]
    assert (engine.ASSETS / "report.css").as_uri() in served
    assert all(url.startswith(ASSETS_URL) for url in served)
    assert {"http://127.0.0.1:9/x.css", "file:///etc/passwd"} <= set(refused)
    assert all("127.0.0.1" in url or "passwd" in url or "config.py" in url for url in refused)


# --- the engine's parts ---------------------------------------------------------------------


def test_filters_and_labels():
    zh = engine.environment("zh_CN")
    en = engine.environment("en")
    assert zh.from_string("{{ x|money }}").render(x=-123450) == "-¥1,234.50"
    assert zh.from_string("{{ d|date }}").render(d=datetime(2026, 10, 1)) == "2026年10月1日"
    assert en.from_string("{{ d|date }}").render(d=datetime(2026, 10, 1)) == "Oct 1, 2026"
    assert zh.from_string("{{ label('rebate', 'document_kind') }}").render() == "返利"
    assert en.from_string("{{ 'rebate'|label('document_kind') }}").render() == "Rebate"
    assert en.from_string("{{ label('unknown', 'document_kind') }}").render() == "unknown"
    assert zh.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_page_counter_is_css_that_cannot_break_out():
    assert engine.page_counter("第 %(page)s 页 / 共 %(pages)s 页") == \
        '"第 " counter(page) " 页 / 共 " counter(pages) " 页"'
    assert engine.page_counter("%(pages)s: %(page)s") == 'counter(pages) ": " counter(page)'
    assert engine.page_counter('x"}</style>') == '"x\\22 }\\3c /style\\3e "'


def test_missing_context_and_unknown_kind_or_language_fail_clearly():
    from jinja2 import UndefinedError

    context = settlement_context(2)
    del context["lines"][0]["balance_fen"]
    with pytest.raises(UndefinedError, match="balance_fen"):
        engine.render_html("settlement", context, "en")
    with pytest.raises(engine.ReportError, match="unknown report kind"):
        engine.render_pdf("nonesuch", settlement_context(1), "en")
    with pytest.raises(engine.ReportError, match="unsupported language"):
        engine.render_pdf("settlement", settlement_context(1), "fr")
    with pytest.raises(engine.ReportError, match="no template"):
        engine.register("nonesuch", "nonesuch.html")


def test_fingerprint_changes_with_what_shapes_the_pdf(kinds):
    first = engine.fingerprint("settlement")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert engine.fingerprint("settlement") == first
    kinds("test_fp", "test_fp.html", source="<p>one</p>")
    one = engine.fingerprint("test_fp")
    assert one != first
    kinds("test_fp", "test_fp.html", source="<p>two</p>")
    assert engine.fingerprint("test_fp") != one
    engine._fingerprints.clear()
    assert engine.fingerprint("settlement") == first
