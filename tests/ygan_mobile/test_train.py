"""Training end to end on a tiny config: outputs, exact resume after a kill, and bad data."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import TINY_MODEL, model_tensors, toml_text
from ygan_mobile.config import Config, apply_overrides, load_preset
from ygan_mobile.train import train

TINY = [
    *TINY_MODEL,
    'data.themes=["stars", "flowers"]', "data.theme_tiles=12",
    "train.steps=40", "train.warmup=10", "train.batch=8", "train.eval_patches=32",
    "train.checkpoint_every=10", "train.log_every=5", "train.threads=1", "train.lr=1e-3",
]


def tiny_config(*extra: str) -> Config:
    return Config.from_dict(apply_overrides(load_preset("quick"), TINY + list(extra)))


def ygan(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ygan", *args], capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    train(tiny_config(), out, progress=False)
    return out


def test_training_writes_checkpoint_pictures_and_metrics(finished_run):
    for name in ("checkpoint.safetensors", "samples.png", "loss_curve.png", "metrics.json", "metrics.jsonl"):
        assert (finished_run / name).stat().st_size > 0, name
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["step"] == 40
    assert set(metrics["final"]["themes"]) == {"stars", "flowers"}
    log = [json.loads(line) for line in (finished_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(4, 40, 5))
    assert "loss_g.stars" in log[-1] and "loss_g.stars" not in log[0]  # generators start after warmup


def test_autoencoder_learns(finished_run):
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["final"]["psnr_auto"] > metrics["initial"]["psnr_auto"] + 1.0


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_kill_and_resume_gives_identical_weights(tmp_path, finished_run, how):
    preset = tmp_path / "tiny.toml"
    preset.write_text(toml_text(tiny_config().to_dict()))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "ygan", "train", "--preset", str(preset), "--out", str(out), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.safetensors").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(how)
    proc.communicate(timeout=120)
    if how == signal.SIGINT:
        assert proc.returncode == 130
    interrupted_at = load_file_meta_step(out)
    assert 0 < interrupted_at < 40, "the kill must land mid-run"
    done = ygan("train", "--preset", str(preset), "--out", str(out), "--resume", "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    resumed, straight = model_tensors(out), model_tensors(finished_run)
    assert resumed.keys() == straight.keys()
    for key in straight:
        assert torch.equal(resumed[key], straight[key]), key


def load_file_meta_step(out: Path) -> int:
    from ygan_mobile.checkpoint import load

    return load(out).step


def test_resume_with_other_model_settings_is_refused(finished_run, tmp_path):
    with pytest.raises(Exception, match="cannot resume"):
        train(tiny_config("model.latent=32"), finished_run, resume=True, progress=False)


def _bad_data_run(tmp_path: Path, folder: Path, flag: str = "--data-a") -> subprocess.CompletedProcess:
    theme = ["--theme", "mine"] if flag == "--data-b" else []
    result = ygan("train", "--preset", "quick", *sum((["--set", s] for s in TINY), []), flag, str(folder), *theme,
                  "--out", str(tmp_path / "out"), "--quiet", timeout=120)
    assert not (tmp_path / "out").exists()  # refused before the output folder is made
    return result


def _assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ygan train: error:"), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_a_missing_theme_folder_is_one_clear_error_and_leaves_nothing(tmp_path):
    _assert_one_line_error(_bad_data_run(tmp_path, tmp_path / "missing", "--data-b"), "no such file or folder")


def test_empty_data_folder_is_one_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_one_line_error(_bad_data_run(tmp_path, empty), "empty")


def test_non_image_file_is_one_clear_error(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "notes.jpg").write_text("not an image")
    _assert_one_line_error(_bad_data_run(tmp_path, folder), "notes.jpg")


def test_too_small_image_is_one_clear_error(tmp_path):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("RGB", (5, 40), (10, 20, 30)).save(folder / "thin.png")
    _assert_one_line_error(_bad_data_run(tmp_path, folder), "thin.png")


def test_help_lists_every_verb_and_a_missing_bundle_is_one_error():
    helped = ygan("--help")
    for verb in ("train", "distill", "convert", "verify", "render", "bench", "report", "build"):
        assert verb in helped.stdout
    for verb in ("bench", "verify", "report"):
        done = ygan(verb, "no-such-bundle")
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, (verb, done.stderr)


def test_learning_rates_decay_by_cosine_to_lr_final():
    from ygan_mobile.models import YGan
    from ygan_mobile.train import make_optimizers, set_learning_rates

    cfg = tiny_config("train.steps=100", "train.lr=1e-3", "train.lr_gan=4e-4", "train.lr_final=0.1")
    opts = make_optimizers(YGan.create(cfg.model, cfg.data.themes), cfg)
    for step, factor in [(0, 1.0), (50, 0.55), (100, 0.1)]:
        set_learning_rates(opts, cfg, step)
        assert opts["autoencoder"].param_groups[0]["lr"] == pytest.approx(1e-3 * factor)
        assert opts["generator.stars"].param_groups[0]["lr"] == pytest.approx(4e-4 * factor)


def test_a_theme_may_train_its_generator_and_critic_at_its_own_rate():
    from ygan_mobile.models import YGan
    from ygan_mobile.train import make_optimizers, set_learning_rates

    cfg = tiny_config("train.steps=100", "train.lr_gan=4e-4", "train.lr_final=0.1", "train.lr_gan_themes={flowers = 2e-3}")
    opts = make_optimizers(YGan.create(cfg.model, cfg.data.themes), cfg)
    set_learning_rates(opts, cfg, 50)
    rates = {name: opt.param_groups[0]["lr"] for name, opt in opts.items()}
    assert rates["generator.flowers"] == rates["critic.flowers"] == pytest.approx(2e-3 * 0.55)
    assert rates["generator.stars"] == rates["critic.stars"] == pytest.approx(4e-4 * 0.55)
    assert rates["autoencoder"] == pytest.approx(1e-3 * 0.55)


def test_a_theme_may_take_away_its_own_share_of_its_tiles_light():
    """match_flatten_themes: the named theme's targets lose their own share of the tile's low-passed
    light layout, the others the preset's match_flatten; the patches' terms are not involved."""
    from ygan_mobile.train import load_data

    base = load_data(tiny_config("train.match_light=1.0", "train.match_flatten=0.3"))
    named = load_data(tiny_config("train.match_light=1.0", "train.match_flatten=0.3", "train.match_flatten_themes={flowers = 0.6}"))
    assert named.pools["flowers"].lighting.flatten == 0.6 and named.pools["stars"].lighting.flatten == 0.3
    x = torch.rand(6, 3, 8, 8) * 2 - 1
    terms = base.lighting.patch_terms(x)
    assert torch.equal(named.pools["stars"].match(x, terms=terms), base.pools["stars"].match(x, terms=terms))
    flat, kept = named.pools["flowers"].match(x, terms=terms), base.pools["flowers"].match(x, terms=terms)
    assert not torch.allclose(flat, kept, atol=1e-3)
    # the tile's own layout around its mean varies less: 0.6 of it taken away instead of 0.3
    spread = lambda t: (t - t.mean((1, 2, 3), keepdim=True)).std()
    assert spread(flat) < spread(kept)


def test_a_theme_may_fade_its_elements_where_the_photograph_is_flat():
    """match_contrast_themes: the named theme's elements fade to the floor where the photograph is flat, the
    others keep the preset's match_contrast (here none: full strength); the patches' light layout is computed
    even when no theme adds the photograph's light."""
    from ygan_mobile.train import load_data

    named = load_data(tiny_config("train.match_light=0.0", "train.match_contrast_themes={flowers = 2.0}",
                                  "train.match_contrast_floor=0.6"))
    full = load_data(tiny_config("train.match_light=0.0", "train.match_contrast_themes={}"))
    assert named.pools["flowers"].lighting.contrast == 2.0 and named.pools["stars"].lighting.contrast == 0.0
    flat = torch.full((6, 3, 8, 8), -0.2)  # no light layout: the named theme's elements at the floor
    terms = named.lighting.patch_terms(flat)
    assert terms[0] is not None
    about = lambda t: (t - t.mean((2, 3), keepdim=True)).pow(2).mean().sqrt().item()
    plain = {t: full.pools[t].match(flat, terms=full.lighting.patch_terms(flat)) for t in ("flowers", "stars")}
    assert about(named.pools["flowers"].match(flat, terms=terms)) == pytest.approx(0.6 * about(plain["flowers"]), rel=0.05)
    assert torch.equal(named.pools["stars"].match(flat, terms=terms), plain["stars"])


def test_a_theme_may_take_its_own_share_of_the_photographs_light():
    """match_light_themes: the named theme's targets add its own weight of the patches' light
    layout, the others the preset's match_light; the layout is computed for the largest weight."""
    from ygan_mobile.train import load_data

    plain = "train.match_contrast_themes={}"  # full-strength elements: the halved layout below is the light alone
    base = load_data(tiny_config("train.match_light=1.0", "train.match_light_themes={}", plain))
    named = load_data(tiny_config("train.match_light=1.0", "train.match_light_themes={flowers = 0.5}", plain))
    assert named.pools["flowers"].lighting.light == 0.5 and named.pools["stars"].lighting.light == 1.0
    x = torch.rand(6, 3, 8, 8) * 2 - 1
    terms = named.lighting.patch_terms(x)
    stars, flowers = (named.pools[t].match(x, terms=terms) for t in ("stars", "flowers"))
    assert torch.equal(stars, base.pools["stars"].match(x, terms=base.lighting.patch_terms(x)))
    layout = base.lighting.patch_terms(x)[0]
    half = base.pools["flowers"].match(x, terms=(0.5 * layout, terms[1]))  # the preset's lighting, half the layout
    assert torch.allclose(flowers, half, atol=1e-6)
    assert not torch.allclose(flowers, base.pools["flowers"].match(x, terms=terms), atol=1e-3)
    off = load_data(tiny_config("train.match_light=0.0", "train.match_light_themes={stars = 0.8}"))
    assert off.lighting.light == 0.8 and off.pools["flowers"].lighting.light == 0.0
    assert off.lighting.patch_terms(x)[0] is not None


def test_a_pool_of_paper_bright_element_tiles_takes_spread_keys_and_drawn_pools_keep_theirs(tmp_path):
    """match_spread (the preset's 0.3): a user's sheets of thin dark outlines on paper are cut into tiles
    that are all paper-bright, whose keys cover a sliver of the photographs' light; their keys are spread
    over it, so one tile no longer serves most patches. The drawn themes' keys cover more and are kept."""
    import numpy as np
    from PIL import Image

    from ygan_mobile.data.matching import SPREAD_PATCHES, coarse_light
    from ygan_mobile.train import load_data

    for k in range(8):
        pixels = np.clip(np.random.default_rng(k).normal(236, 6, (120, 120, 3)), 0, 255)
        for top, left in [(15, 15), (15, 70), (70, 15), (70, 70)]:
            side = 24 + 2 * ((k + top + left) % 4)
            pixels[top:top + side, left:left + side] = (30, 40, 110)
            pixels[top + 3:top + side - 3, left + 3:left + side - 3] = 236  # an outline, mostly paper inside
        Image.fromarray(pixels.astype(np.uint8)).save(tmp_path / f"sheet{k}.png")
    mine = [f'data.data_b="{tmp_path}"', 'data.themes=["mine"]']
    spread, kept = load_data(tiny_config(*mine)), load_data(tiny_config(*mine, "train.match_spread=0"))
    light = coarse_light(spread.a.train.batch(0, SPREAD_PATCHES), 1).flatten()
    own, new = kept.pools["mine"], spread.pools["mine"]
    assert own.coverage(light) < 0.3 and torch.equal(new.tiles, own.tiles)
    assert spread.spread == {"mine": own.coverage(light)} and kept.spread == {}
    assert torch.equal(new.keys, own.spread(light).keys)
    share = lambda pool: torch.bincount(torch.cdist(light.view(-1, 1), pool.keys).argmin(1)).max().item() / len(light)
    assert share(own) > 0.5 and share(new) < 1.5 / len(new.keys)

    drawn, unspread = load_data(tiny_config()), load_data(tiny_config("train.match_spread=0"))
    for theme in ("stars", "flowers"):
        assert drawn.pools[theme].coverage(light) > 0.3
        assert torch.equal(drawn.pools[theme].keys, unspread.pools[theme].keys)
        assert torch.equal(drawn.pools[theme].tiles, unspread.pools[theme].tiles)
    assert drawn.spread == {}


def test_theme_match_choices_start_at_their_step_and_only_for_the_themes_listed():
    """Before match_choices_from every theme's term is the single nearest tile's (the step is the
    run without choices, bit for bit); from it on, a listed theme's term is the best of its choices
    (chosen for its contrast, so not always the lowest in plain error), an unlisted theme's is unchanged."""
    from ygan_mobile.distributed import World
    from ygan_mobile.models import YGan
    from ygan_mobile.train import Nets, load_data, make_optimizers, train_step

    def steps(*extra):
        cfg = tiny_config("train.warmup=40", 'train.generator_init="match"', "train.match_cells=1",
                          "train.match_relight=true", *extra)
        torch.manual_seed(0)
        model = YGan.create(cfg.model, list(cfg.data.themes))
        opts, data = make_optimizers(model, cfg), load_data(cfg)
        nets = Nets.of(model, World())
        return [train_step(model, nets, opts, data, s, cfg) for s in range(3)], model

    plain, plain_model = steps()
    chosen, chosen_model = steps("train.match_choices={flowers = 4}", "train.match_choices_from=2")
    assert plain[:2] == chosen[:2]
    assert chosen[2]["theme_match.stars"] == plain[2]["theme_match.stars"]
    assert chosen[2]["theme_match.flowers"] != plain[2]["theme_match.flowers"]
    assert not torch.equal(next(plain_model.generators["flowers"].parameters()), next(chosen_model.generators["flowers"].parameters()))


def test_theme_match_spacing_starts_with_the_choices_and_only_for_the_themes_listed():
    """A spaced pool has fewer tiles, so its nearest tile is farther: before match_choices_from the
    step is the plain run's bit for bit, after it only the listed theme's term changes."""
    from ygan_mobile.distributed import World
    from ygan_mobile.models import YGan
    from ygan_mobile.train import Nets, load_data, make_optimizers, train_step

    def steps(*extra):
        cfg = tiny_config("train.warmup=40", 'train.generator_init="match"', "train.match_cells=1",
                          "train.match_relight=true", "train.match_choices_from=2", *extra)
        torch.manual_seed(0)
        model = YGan.create(cfg.model, list(cfg.data.themes))
        opts, data = make_optimizers(model, cfg), load_data(cfg)
        return [train_step(model, Nets.of(model, World()), opts, data, s, cfg) for s in range(3)], data

    plain, _ = steps()
    spaced, data = steps("train.match_spacing={flowers = 0.1}")
    assert len(data.spaced["flowers"].tiles) < len(data.pools["flowers"].tiles) and set(data.spaced) == {"flowers"}
    assert plain[:2] == spaced[:2]
    assert spaced[2]["theme_match.stars"] == plain[2]["theme_match.stars"]
    assert spaced[2]["theme_match.flowers"] != plain[2]["theme_match.flowers"]
