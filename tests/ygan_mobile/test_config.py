import pytest

from ygan_mobile.config import Config, apply_overrides, load_preset, teacher_tables
from ygan_mobile.errors import YganError


@pytest.mark.parametrize("name", ["quick", "full"])
def test_presets_load(name):
    cfg = Config.from_dict(teacher_tables(load_preset(name)))
    assert cfg.model.patch % 4 == 0 and len(cfg.data.themes) >= 3


def test_a_named_preset_carries_its_build_tables():
    """full's judge trains longer (six classes); quick keeps the default, the one source of it."""
    from ygan.build_config import QualitySettings, resolve

    assert resolve("full", []).quality.steps == 2000
    assert resolve("quick", []).quality.steps == QualitySettings().steps == 600
    assert resolve("full", ["quality.steps=50"]).quality.steps == 50
    assert resolve("full", []).quality.judges == 5
    assert resolve("quick", []).quality.judges == QualitySettings().judges == 3  # make demo's time
    with pytest.raises(YganError, match="quality.judges"):
        resolve("quick", ["quality.judges=0"])
    assert resolve("quick", []).quality.retry_steps == 1000 and resolve("full", []).quality.retry_steps == 1000
    with pytest.raises(YganError, match="quality.retry_steps"):
        resolve("quick", ["quality.retry_steps=-1"])


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


@pytest.mark.parametrize("override, message", [
    ("train.steps=0", r"\[train\] steps = 0 is out of range: it must be ≥ 1"),
    ("train.steps=-5", r"\[train\] steps = -5 is out of range"),
    ("train.batch=0", r"\[train\] batch = 0 is out of range"),
    ("data.themes=[]", r"\[data\] themes = \[\] must list one or more"),
    ('data.themes=["stars", "stars"]', r"distinct theme names"),
    ("model.width=0", r"\[model\] width = 0 is out of range"),
    ("train.lr=-1e-3", r"\[train\] lr = -0.001 is out of range: it must be > 0"),
    ("train.lr_gan=0.0", r"\[train\] lr_gan = 0.0 is out of range: it must be > 0"),
    ("train.log_every=0", r"\[train\] log_every = 0 is out of range"),
    ("train.checkpoint_every=0", r"\[train\] checkpoint_every = 0 is out of range"),
    ("data.holdout=1.0", r"\[data\] holdout = 1.0 is out of range: it must be > 0 and ≤ 0.95"),
    ('train.generator_init="copy"', r"generator_init = 'copy' is not one of decoder, match"),
    ("train.match_cells=64", r"match_cells = 64 exceeds the patch size 32"),
    ('train.match_fit=["galaxys"]', r"match_fit = \['galaxys'\] must name themes \(flowers, stars, skulls\)"),
    ("train.match_choices={eyse = 3}", r"match_choices = \{'eyse': 3\} must map themes \(flowers, stars, skulls, or \"\*\""),
    ("train.match_choices={skulls = 0}", r"to a whole number of tiles ≥ 1"),
    ("train.match_choices={skulls = 2.5}", r"to a whole number of tiles ≥ 1"),
    ("train.match_choices_from=-1", r"match_choices_from = -1 is out of range"),
    ("train.match_spacing={eyse = 0.03}", r"match_spacing = \{'eyse': 0.03\} must map themes \(flowers"),
    ('train.critic_real="photos"', r"critic_real = 'photos' is not one of tiles, matched"),
    ('train.paired_form="l1"', r"paired_form = 'l1' is not one of mse, relative, log"),
    ("train.paired_floor=0", r"paired_floor = 0.0 is out of range: it must be > 0"),
    ("train.chroma=-1", r"chroma = -1.0 is out of range: it must be ≥ 0"),
    ("train.chroma=0.5", r"chroma = 0.5 needs a restoration task's clean targets"),
    ("train.match_flatten=1.5", r"match_flatten = 1.5 is out of range"),
    ("train.match_chroma=-0.1", r"match_chroma = -0.1 is out of range"),
    ("train.match_light_sigma=0", r"match_light_sigma = 0.0 is out of range"),
    ("train.match_spacing={skulls = 0}", r"to a key distance > 0"),
    ("train.match_spacing={skulls = -0.1}", r"to a key distance > 0"),
    ('train.match_spacing={skulls = "wide"}', r"to a key distance > 0"),
    ("train.lr_gan_themes={sculls = 1e-3}", r"lr_gan_themes = \{'sculls': 0.001\} must map themes \(flowers"),
    ("train.lr_gan_themes={skulls = 0}", r"to a learning rate > 0"),
    ("train.match_light_themes={flower = 0.7}", r"match_light_themes = \{'flower': 0.7\} must map themes \(flowers"),
    ("train.match_light_themes={flowers = -1}", r"to a weight ≥ 0"),
    ("train.match_flatten_themes={skull = 0.5}", r"match_flatten_themes = \{'skull': 0.5\} must map themes \(flowers"),
    ("train.match_flatten_themes={skulls = 1.5}", r"to a share from 0 to 1"),
    ("train.match_contrast_themes={flower = 2}", r"match_contrast_themes = \{'flower': 2\} must map themes"),
    ("train.match_contrast_themes={flowers = -1}", r"to a factor ≥ 0"),
    ("train.match_contrast_floor=1.5", r"match_contrast_floor = 1.5 is out of range"),
    ("train.match_contrast=-1", r"match_contrast = -1.0 is out of range"),
    ("train.match_spread=1.5", r"match_spread = 1.5 is out of range: it must be ≥ 0 and ≤ 1"),
    ("train.match_spread=-0.1", r"match_spread = -0.1 is out of range"),
])
def test_settings_are_checked_when_the_config_is_built(override, message):
    """Issue 21: nonsense settings fail before any work starts, in one line."""
    with pytest.raises(YganError, match=message):
        Config.from_dict(apply_overrides(load_preset("quick"), [override]))


@pytest.mark.parametrize("override", ["train.match_cells=4", "train.match_centred=true"])
def test_spread_keys_need_one_mean_light_per_tile(override):
    with pytest.raises(YganError, match=r"match_spread = 0.3 spreads one mean light per tile: it needs match_cells = 1"):
        Config.from_dict(apply_overrides(load_preset("quick"), ["train.match_spread=0.3", override]))
    Config.from_dict(apply_overrides(load_preset("quick"), ["train.match_spread=0", override]))


def test_per_theme_settings_may_name_drawn_themes_the_run_does_not_train():
    """A preset's per-theme settings carry over to a run of other themes (a user's --data-b theme): the
    drawn themes it does not train are ignored, "*" covers every theme not named."""
    from ygan_mobile.config import teacher_tables
    from ygan_mobile.train import choices_of

    cfg = Config.from_dict(apply_overrides(teacher_tables(load_preset("full")), ['data.themes=["mine"]']))
    assert cfg.train.match_choices == {"*": 3} and "galaxies" in cfg.train.match_fit
    assert choices_of(cfg.train, "mine") == 3
    named = Config.from_dict(apply_overrides(teacher_tables(load_preset("quick")), ["train.match_choices={stars = 5}"]))
    assert choices_of(named.train, "stars") == 5 and choices_of(named.train, "skulls") == 1


def test_a_preset_value_of_the_wrong_type_is_refused():
    raw = load_preset("quick")
    raw["train"]["steps"] = "many"
    with pytest.raises(YganError, match=r"\[train\] steps = 'many' must be a int"):
        Config.from_dict(raw)


def _distill(raw):
    from distill.config import DistillConfig

    return DistillConfig.from_dict(raw)


@pytest.mark.parametrize("parse, raw, message", [
    (Config.from_dict, {"modle": {}}, r"unknown config section\(s\) \['modle'\]: expected \['data', 'model', 'train'\]"),
    (Config.from_dict, {"train": {"stepz": 3}}, r"unknown key\(s\) \['stepz'\] in \[train\]: known keys are \["),
    (_distill, {"students": {}}, r"unknown distill config section\(s\) \['students'\]: expected \['eval', 'student', 'train'\]"),
    (_distill, {"eval": {"frames": 3}}, r"unknown key\(s\) \['frames'\] in distill \[eval\]: known keys are \["),
])
def test_teacher_and_distill_configs_refuse_unknown_sections_and_keys(parse, raw, message):
    with pytest.raises(YganError, match=message):
        parse(raw)
