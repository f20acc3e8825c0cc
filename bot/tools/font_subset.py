"""Rebuild the chart font (bot/data/fonts/NotoSansCJKsc-Regular-subset.otf) from Debian's
fonts-noto-cjk: the Simplified Chinese face of NotoSansCJK-Regular.ttc, cut down to GB2312, ASCII,
CJK punctuation, full-width forms and every Han character in the bundled org and department files
(1.6 MB instead of 19 MB). The subset stays under the SIL Open Font License (bot/data/fonts/OFL.txt).

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb noto
    python -m bot.tools.font_subset noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
"""
from __future__ import annotations

import sys
from pathlib import Path

from bot.domain.charts import FONT

SC_FACE = 2          # in NotoSansCJK-Regular.ttc: JP, KR, SC, TC, HK, then the Mono faces
DATA = Path(__file__).resolve().parent.parent / "data"


def characters() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0x3000, 0x3040)}
    chars |= {chr(c) for c in range(0xFF00, 0xFFF0)} | set("·—–…‘’“”℃№‰％")
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                chars.add(bytes([first, second]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for path in DATA.glob("*.yaml"):
        chars |= {c for c in path.read_text(encoding="utf-8") if "\u4e00" <= c <= "\u9fff"}
    return "".join(sorted(chars))


def main(argv: list[str]) -> int:
    from fontTools import subset

    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    options = subset.Options()
    options.font_number = SC_FACE
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    font = subset.load_font(argv[0], options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters())
    subsetter.subset(font)
    subset.save_font(font, str(FONT), options)
    print(f"{FONT} ({FONT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
