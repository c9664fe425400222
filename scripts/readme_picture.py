"""Stack a bundle's quality pictures (quality/mosaic_<theme>.png, written by `ygan build`) into the
README's pictures. Usage: .venv/bin/python scripts/readme_picture.py BUNDLE OUT.jpg [THEME ...] (a .jpg is JPEG
quality 90; themes default to all the bundle's). The README's: docs/img/readme_themes.jpg from the quick
build, docs/img/readme_full.jpg from the full build with themes flowers skulls eyes galaxies."""

import sys
from pathlib import Path

from PIL import Image


def stack(bundle: Path, out: Path, themes: list[str]) -> None:
    paths = [bundle / "quality" / f"mosaic_{t}.png" for t in themes] if themes else sorted((bundle / "quality").glob("mosaic_*.png"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"no such picture: {', '.join(missing)} (build the bundle with `ygan build` first)")
    panels = [Image.open(p).convert("RGB") for p in paths]
    if not panels:
        raise SystemExit(f"{bundle}/quality has no mosaic_*.png: build the bundle with `ygan build` first")
    width = max(p.width for p in panels)
    sheet = Image.new("RGB", (width, sum(p.height for p in panels)), (255, 255, 255))
    top = 0
    for p in panels:
        sheet.paste(p, (0, top))
        top += p.height
    sheet.save(out, quality=90, optimize=True) if out.suffix.lower() in (".jpg", ".jpeg") else sheet.save(out, optimize=True)


if __name__ == "__main__":
    stack(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
