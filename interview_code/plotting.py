"""matplotlib set-up shared by the notebooks: a CJK font and colours readable in both palettes."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
from matplotlib import font_manager

# Installed by `make setup` (Debian package fonts-wqy-microhei).
CJK_FONT = "WenQuanYi Micro Hei"


def use_cjk_font() -> str:
    """Configure matplotlib for Chinese labels; fail loudly if the font is missing."""
    names = {font.name for font in font_manager.fontManager.ttflist}
    if CJK_FONT not in names:  # the font may have been installed after matplotlib cached its list
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
        names = {font.name for font in font_manager.fontManager.ttflist}
    if CJK_FONT not in names:
        raise RuntimeError(
            f"CJK font {CJK_FONT!r} not found: run `make setup` (installs fonts-wqy-microhei)."
        )
    # A missing glyph would publish boxes instead of Chinese: make it an error.
    warnings.filterwarnings("error", message=r"Glyph .* missing from font")
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [CJK_FONT, "DejaVu Sans"],
            "axes.unicode_minus": False,  # the CJK font has no U+2212 minus sign
            "figure.facecolor": "white",  # plots sit on a white card in dark mode too
            "figure.dpi": 96,
            "savefig.bbox": "tight",
            # Heatmaps show their cells as they are: smoothed (antialiased) resampling adds
            # colour gradients that make the inline PNG several times larger.
            "image.interpolation": "nearest",
        }
    )
    return CJK_FONT
