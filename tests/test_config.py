import pytest

from ygan_mobile.config import Config, apply_overrides, load_preset
from ygan_mobile.errors import YganError


@pytest.mark.parametrize("name", ["quick", "full"])
def test_presets_load(name):
    cfg = Config.from_dict(load_preset(name))
    assert cfg.model.patch % 4 == 0 and len(cfg.data.themes) >= 3


def test_override_keeps_types():
    raw = apply_overrides(load_preset("quick"), ["train.steps=7", "train.lr=1", 'data.themes=["stars"]'])
    cfg = Config.from_dict(raw)
    assert cfg.train.steps == 7 and cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)
    assert cfg.data.themes == ["stars"]


@pytest.mark.parametrize("bad", ["train.steps", "train.nope=1", "model.patch=big", "steps=3"])
def test_bad_override_is_one_clear_error(bad):
    with pytest.raises(YganError):
        apply_overrides(load_preset("quick"), [bad])


def test_patch_size_must_be_power_of_two_multiple_of_four():
    with pytest.raises(YganError, match="patch size 24"):
        Config.from_dict(apply_overrides(load_preset("quick"), ["model.patch=24"]))
