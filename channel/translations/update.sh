#!/usr/bin/env bash
# Re-extract the translatable strings, merge them into the Chinese catalog, list what still
# needs translating, and compile the catalogs. Run it (from anywhere) after adding strings:
#
#   channel/translations/update.sh            extract into messages.pot, update the Chinese
#                                             catalog, list what is untranslated, compile
#   channel/translations/update.sh --check    the same, but exit 1 if anything is untranslated
#   channel/translations/update.sh --extract-only FILE
#                                             only write the template to FILE (used by
#                                             tests/test_translations.py; touches nothing else)
#
# Then translate the listed msgids in channel/translations/zh_Hans_CN/LC_MESSAGES/messages.po
# (no fuzzy entries, keep every %(name)s placeholder) and run the script once more.
# The compiled .mo files are not committed; the setup scripts compile them.
#
# PYBABEL may point at another pybabel; by default the project's .venv is used.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CALLER_PWD="$PWD"
cd "$ROOT"

if [[ -z "${PYBABEL:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/pybabel" ]]; then
        PYBABEL="$ROOT/.venv/bin/pybabel"
    else
        PYBABEL="$(command -v pybabel)" || { echo "pybabel not found (set PYBABEL)" >&2; exit 2; }
    fi
fi
PYTHON="${PYTHON:-$(dirname "$PYBABEL")/python}"
[[ -x "$PYTHON" ]] || PYTHON="$(command -v python3)"

POT="channel/translations/messages.pot"
TRANSLATIONS="channel/translations"
# The Chinese catalog lives in zh_Hans_CN, not zh_CN: Babel (and so Flask-Babel) parses the
# locale "zh_CN" as Locale('zh', 'CN', script='Hans') and looks the catalog up under its
# name, zh_Hans_CN (then zh). A catalog in zh_CN/ is silently never loaded.
LOCALE="zh_Hans_CN"
PO="$TRANSLATIONS/$LOCALE/LC_MESSAGES/messages.po"

VERSION="$(sed -n 's/^version *= *"\(.*\)"/\1/p' pyproject.toml | head -n 1)"

extract() {
    # Babel's default directory filter skips every directory whose name starts with "_"
    # (templates/_macros!) or ".": name the ignored directories explicitly instead, so that
    # .venv, .git etc. stay out and templates/_macros is scanned. babel.cfg limits the scan
    # to channel/, reports/ and templates/.
    "$PYBABEL" -q extract -F babel.cfg \
        -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
        --ignore-dirs='.* __pycache__ node_modules' \
        --add-comments=TRANSLATORS: \
        --project=Channel --version="${VERSION:-0}" --copyright-holder="Channel" \
        -o "$1" .
}

CHECK=0
case "${1:-}" in
    --extract-only)
        [[ -n "${2:-}" ]] || { echo "usage: $0 --extract-only FILE" >&2; exit 2; }
        out="$2"
        [[ "$out" = /* ]] || out="$CALLER_PWD/$out"
        extract "$out"
        exit 0
        ;;
    --check) CHECK=1 ;;
    "") ;;
    *) echo "usage: $0 [--check | --extract-only FILE]" >&2; exit 2 ;;
esac

extract "$POT"
"$PYBABEL" -q update -i "$POT" -d "$TRANSLATIONS" -l "$LOCALE" \
    --no-fuzzy-matching --ignore-obsolete --init-missing

status=0
"$PYTHON" - "$PO" <<'PY' || status=$?
import sys
from babel.messages.pofile import read_po

with open(sys.argv[1], "rb") as f:
    catalog = read_po(f)
todo = [m for m in catalog if m.id and (not m.string or (isinstance(m.string, (tuple, list))
        and not all(m.string)) or m.fuzzy)]
total = sum(1 for m in catalog if m.id)
if not todo:
    print(f"{sys.argv[1]}: all {total} messages translated.")
    sys.exit(0)
print(f"{sys.argv[1]}: {len(todo)} of {total} messages need translating:")
for m in todo:
    where = ", ".join(f"{f}:{n}" for f, n in m.locations[:2])
    msgid = m.id if isinstance(m.id, str) else " | ".join(m.id)
    print(f"  {'[fuzzy] ' if m.fuzzy else ''}{msgid!r}  ({where})")
sys.exit(1)
PY

"$PYBABEL" -q compile -d "$TRANSLATIONS"

if [[ $CHECK -eq 1 && $status -ne 0 ]]; then
    exit 1
fi
exit 0
