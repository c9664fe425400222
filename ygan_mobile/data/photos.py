"""Input domain A: natural photographs that ship inside installed wheels, so nothing downloads.

Every name below was checked to load from the package directory with no network (DESIGN §10).
Left out on purpose: skimage's brain, cells3d, eagle, human_mitosis, kidney, lily,
nickel_solidification, palisades_of_vogt, protein_transport, skin and vortex (they download),
colorwheel (synthetic, not a photograph) and lfw_subset (25×25 faces, smaller than a patch).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ygan_mobile.errors import YganError

COLOUR = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "retina")
GREY = ("camera", "moon", "brick", "grass", "gravel", "coins", "cell", "clock")
PHOTO_NAMES = (COLOUR + ("stereo_motorcycle_left", "stereo_motorcycle_right") + GREY
               + ("china", "flower", "grace_hopper"))


@dataclass(frozen=True)
class NamedImage:
    """A uint8 H×W×3 RGB image and where it came from.

    `group` names the scene: images of one group (e.g. the two views of a stereo pair) fall on the
    same side of the train / held-out split, so a near-copy of an evaluation image is never trained on.
    """

    name: str
    pixels: np.ndarray
    group: str = ""
    held: bool = False  # always on the held-out side of the split (the portrait every mosaic score shows)

    @property
    def scene(self) -> str:
        return self.group or self.name


def _rgb(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    pixels = np.ascontiguousarray(pixels[:, :, :3])
    pixels.setflags(write=False)
    return pixels


def _skimage() -> list[NamedImage]:
    from skimage import data

    images = [NamedImage(name, _rgb(getattr(data, name)())) for name in COLOUR]
    left, right, _disparity = data.stereo_motorcycle()
    images += [NamedImage("stereo_motorcycle_left", _rgb(left), "stereo_motorcycle"),
               NamedImage("stereo_motorcycle_right", _rgb(right), "stereo_motorcycle")]
    images += [NamedImage(name, _rgb(getattr(data, name)())) for name in GREY]
    return images


def _sklearn() -> list[NamedImage]:
    from sklearn.datasets import load_sample_images

    samples = load_sample_images()
    return [NamedImage(name, _rgb(img)) for name, img in zip(("china", "flower"), samples.images)]


def _matplotlib() -> list[NamedImage]:
    """Grace Hopper's portrait, held out of training for every seed: a face is what shows at once
    whether a mosaic keeps the photograph (DESIGN §11), so every build scores one it never saw."""
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as handle, Image.open(handle) as im:
        return [NamedImage("grace_hopper", _rgb(np.asarray(im.convert("RGB"))), held=True)]


@functools.lru_cache(maxsize=1)
def load_photos() -> tuple[NamedImage, ...]:
    """All embedded photographs in PHOTO_NAMES order; read-only arrays, cached in memory only."""
    images = _skimage() + _sklearn() + _matplotlib()
    assert tuple(i.name for i in images) == PHOTO_NAMES
    return tuple(images)


def load_photo(name: str) -> NamedImage:
    for image in load_photos():
        if image.name == name:
            return image
    raise YganError(f"no embedded photo {name!r} — choose one of {', '.join(PHOTO_NAMES)}")
