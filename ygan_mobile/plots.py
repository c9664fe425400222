"""Pictures written at every checkpoint: the loss curves and a sample grid to look at."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from ygan_mobile.atomic import atomic_path  # noqa: E402
from ygan_mobile.models import YGan  # noqa: E402
from ygan_mobile.render.torch_pipeline import to_u8  # noqa: E402


def loss_curve(metrics_jsonl: Path, png: Path) -> None:
    records = [json.loads(line) for line in Path(metrics_jsonl).read_text().splitlines() if line]
    if not records:
        return
    keys = sorted({k for r in records for k in r if k.startswith("loss")})
    groups = {"autoencoder": [k for k in keys if k == "loss_auto"],
              "generators": [k for k in keys if k.startswith("loss_g")],
              "critics": [k for k in keys if k.startswith("loss_d")]}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (title, names) in zip(axes, groups.items()):
        for name in names:
            pts = [(r["step"], r[name]) for r in records if name in r]
            if pts:
                ax.plot(*zip(*pts), label=name.split(".", 1)[-1])
        ax.set_title(title)
        ax.set_xlabel("step")
        if title == "autoencoder":
            ax.set_yscale("log")
        if len(names) > 1:
            ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


@torch.no_grad()
def sample_grid(model: YGan, x: torch.Tensor, png: Path, scale: int = 3) -> None:
    """Rows are held-out patches; columns: input | reconstruction | one generated patch per theme."""
    modes = {name: m.training for name, m in model.modules().items()}
    for m in model.modules().values():
        m.eval()
    z = model.encoder(x)
    columns = [("input", x), ("reconstruction", model.decoder(z))]
    columns += [(theme, model.restored(x, gen(z))) for theme, gen in model.generators.items()]
    for name, m in model.modules().items():
        m.train(modes[name])
    n, p = x.shape[0], x.shape[-1] * scale
    gap, header = 4, 18
    sheet = Image.new("RGB", (len(columns) * (p + gap) + gap, header + n * (p + gap) + gap), (30, 30, 30))
    draw = ImageDraw.Draw(sheet)
    for c, (title, patches) in enumerate(columns):
        left = gap + c * (p + gap)
        draw.text((left, 3), title[: p // 6], fill=(230, 230, 230))
        for r, tile in enumerate(to_u8(patches)):
            img = Image.fromarray(tile).resize((p, p), Image.NEAREST)
            sheet.paste(img, (left, header + gap + r * (p + gap)))
    with atomic_path(png) as tmp:
        sheet.save(tmp, format="PNG")
