"""yGAN training: one shared encoder/decoder on domain A, one generator and critic per theme.

Each step is a pure function of (weights, optimiser state, seed, step): batches and the gradient
penalty's mixing weights are drawn from generators seeded by (seed, step), so a resumed run repeats
an uninterrupted one exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from ygan_mobile import augment, checkpoint, losses
from ygan_mobile.atomic import write_text
from ygan_mobile.config import Config, TrainConfig
from ygan_mobile.errors import YganError
from ygan_mobile.data import PatchSplit, domain_a, domain_b, restoration_target
from ygan_mobile.data.matching import SPREAD_PATCHES, Lighting, ThemePool, coarse_light, luma
from ygan_mobile.distributed import World, join, leave
from ygan_mobile.evaluate import evaluate
from ygan_mobile.loop import Schedule, cosine_decay, run_steps
from ygan_mobile.models import YGan, channels_last
from ygan_mobile.plots import loss_curve, sample_grid

METRICS = "metrics.jsonl"
SUMMARY = "metrics.json"


@dataclass
class Data:
    a: PatchSplit
    b: dict[str, PatchSplit]
    paired: bool = False  # batch k of a and of b are the same crops (a restoration task)
    pools: dict[str, ThemePool] = field(default_factory=dict)  # the theme-match term's tiles
    spaced: dict[str, ThemePool] = field(default_factory=dict)  # the themes of match_spacing: their pools, spaced
    lighting: Lighting | None = None  # how every pool's matched tiles take on their patches' light and colour
    spread: dict[str, float] = field(default_factory=dict)  # themes whose keys were spread: their own keys' coverage


def load_data(cfg: Config) -> Data:
    seed, patch, holdout = cfg.train.seed, cfg.model.patch, cfg.data.holdout
    d = cfg.data.degradation
    a = domain_a(patch, seed, holdout, path=cfg.data.data_a or None, degradation=d)
    if d is not None:
        return Data(a, {d.task: restoration_target(patch, seed, holdout, d, path=cfg.data.data_a or None)}, paired=True)
    b = {
        theme: domain_b(theme, patch, seed + 1 + i, holdout, path=cfg.data.data_b or None, count=cfg.data.theme_tiles)
        for i, theme in enumerate(cfg.data.themes)
    }
    t = cfg.train
    if not (t.theme_match or t.generator_init == "match"):
        return Data(a, b)
    lighting = Lighting(t.match_light, t.match_light_sigma, t.match_flatten, t.match_flatten_dark, t.match_chroma, t.match_chroma_sigma,
                        t.match_contrast, t.match_contrast_floor)
    pools = {theme: ThemePool.of(split, t.match_cells, t.match_pool, t.match_relight, theme in t.match_fit, t.match_centred,
                                 replace(lighting, light=t.match_light_themes.get(theme, t.match_light),
                                         flatten=t.match_flatten_themes.get(theme, t.match_flatten),
                                         contrast=t.match_contrast_themes.get(theme, t.match_contrast)))
             for theme, split in b.items()}
    spread = {}
    if t.match_spread:
        light = coarse_light(a.train.batch(0, SPREAD_PATCHES), 1).flatten()  # a pure function of the seed
        coverage = {theme: pool.coverage(light) for theme, pool in pools.items()}
        spread = {theme: c for theme, c in coverage.items() if c < t.match_spread}
        pools = {theme: pool.spread(light) if theme in spread else pool for theme, pool in pools.items()}
    # the patches' light layout is computed once per batch for every theme, so whenever any theme adds some or fades by it
    lighting = replace(lighting, light=max([t.match_light, *t.match_light_themes.values()]),
                       contrast=max([t.match_contrast, *t.match_contrast_themes.values()]))
    return Data(a, b, pools=pools, spaced={theme: pools[theme].spaced(gap) for theme, gap in t.match_spacing.items() if theme in pools},
                lighting=lighting, spread=spread)


def make_optimizers(model: YGan, cfg: Config) -> dict[str, torch.optim.Optimizer]:
    """The autoencoder learns from scratch at `lr`; generators start from the trained decoder and
    are fine-tuned at the gentler `lr_gan`, together with their critics."""
    def adam(lr: float, *modules: torch.nn.Module) -> torch.optim.Adam:
        params = [p for m in modules for p in m.parameters()]
        return torch.optim.Adam(params, lr=lr, betas=(cfg.train.beta1, cfg.train.beta2))

    opts = {"autoencoder": adam(cfg.train.lr, model.encoder, model.decoder)}
    for theme in model.generators:
        opts[f"generator.{theme}"] = adam(base_rate(cfg, f"generator.{theme}"), model.generators[theme])
        opts[f"critic.{theme}"] = adam(base_rate(cfg, f"critic.{theme}"), model.critics[theme])
    return opts


def base_rate(cfg: Config, name: str) -> float:
    """The learning rate before decay of the optimiser `name`: lr for the autoencoder, a theme's own
    rate (lr_gan_themes) or lr_gan for its generator and critic."""
    t = cfg.train
    if name == "autoencoder":
        return t.lr
    return t.lr_gan_themes.get(name.partition(".")[2], t.lr_gan)


def set_learning_rates(opts: dict[str, torch.optim.Optimizer], cfg: Config, step: int) -> None:
    """Cosine decay towards lr·lr_final. A restoration task's pixel loss keeps improving as the step
    size shrinks; the art presets keep lr_final = 1 (constant), as a GAN's balance prefers."""
    factor = cosine_decay(step, cfg.train.steps, cfg.train.lr_final)
    for name, opt in opts.items():
        for group in opt.param_groups:
            group["lr"] = base_rate(cfg, name) * factor


def start_generators_from_decoder(model: YGan) -> None:
    """Each generator starts as a copy of the trained decoder: it already maps z back to the patch
    it came from (a low cycle error), and the critic only has to move its style towards the theme.
    With the skip (restoration) its last conv is then zeroed: the decoder's features are kept, the
    correction starts at 0 and the patch model at the identity."""
    for gen in model.generators.values():
        gen.load_state_dict(model.decoder.state_dict())
    model.start_identity()


def _match(data: Data, t: TrainConfig, theme: str, step: int, x: torch.Tensor, terms: tuple | None = None) -> torch.Tensor:
    """The theme-match term's target y*(x) at this step: the single nearest tile of the whole pool
    until match_choices_from, so the generator first learns the plain mapping (from the first step,
    the choice drifted towards plain tiles: docs/lab/2026-12-04-stamp-recipe.md, sixth round); from then on the best of
    the theme's match_choices nearest tiles, in its spaced pool if match_spacing lists it (seventh)."""
    if step < t.match_choices_from:
        return data.pools[theme].match(x, terms=terms)
    return data.spaced.get(theme, data.pools[theme]).match(x, choices_of(t, theme), terms)


def choices_of(t: TrainConfig, theme: str) -> int:
    """The theme's match_choices: its own entry, else the "*" entry, else 1 (the nearest tile)."""
    return t.match_choices.get(theme, t.match_choices.get("*", 1))


def grey(x: torch.Tensor) -> torch.Tensor:
    """(N,3,P,P) → its luminance in all three channels, the critic's input when it judges shape alone."""
    return luma(x).expand_as(x)


def _first(matched: torch.Tensor) -> torch.Tensor:
    """The nearest of the matched candidates (N,k,3,P,P), or the single match (N,3,P,P) itself."""
    return matched[:, 0] if matched.dim() == 5 else matched


@dataclass
class Nets:
    """The networks as the training step calls them when their gradients must be averaged over
    ranks (DDP-wrapped under torchrun, the plain modules in one process); frozen uses go to `model`."""
    encoder: torch.nn.Module
    decoder: torch.nn.Module
    generators: dict[str, torch.nn.Module]
    critics: dict[str, torch.nn.Module]

    @classmethod
    def of(cls, model: YGan, world: World) -> "Nets":
        return cls(world.wrap(model.encoder), world.wrap(model.decoder),
                   {t: world.wrap(g) for t, g in model.generators.items()},
                   {t: world.wrap(d) for t, d in model.critics.items()})


def train_step(model: YGan, nets: Nets, opts: dict[str, torch.optim.Optimizer], data: Data, step: int, cfg: Config,
               world: World = World()) -> dict[str, float]:
    """One optimisation step of every network on this rank's shard of the batch; returns the losses.

    Warm-up steps train E and Dec on ℓ_auto and, with generator_init = "match", each generator on the
    theme-match term against a detached z (docs/training.md); later steps are the adversarial phase,
    whose critic may take the theme-match targets for real (critic_real), see luminance only
    (critic_luma) and see both sides through DiffAugment (critic_augment).

    The shared encoder learns from ℓ_auto and, weighted by `cycle_encoder`, from every theme's
    cycle term on a detached G(z), so it learns to read a latent back from a themed patch without
    the critic's gradients reaching it. In a restoration task (paired data) the pixel loss against
    the clean patch trains G and, through a frozen G, E as well. The encoder's terms are summed and
    backpropagated once (one gradient reduction per network and step under DDP).
    """
    t = cfg.train
    x = world.shard(data.a.train.batch(step, t.batch))
    opts["autoencoder"].zero_grad()
    record: dict[str, float] = {}
    encoder_terms = []
    latent = nets.encoder(x)  # one forward with gradients serves ℓ_auto, the paired term and z
    light_terms = data.lighting.patch_terms(x) if data.lighting else None  # once per batch, for every theme
    if step < t.warmup and t.generator_init == "match":
        for theme in model.generators:
            record.update(_warmup_match(model, nets, opts, data, t, theme, step, x, latent, light_terms))
    if step >= t.warmup:
        if step == t.warmup and t.generator_init == "decoder":
            start_generators_from_decoder(model)
        z = latent.detach()
        with torch.no_grad():
            z_power = world.global_mean(z.pow(2).mean())  # the cycle terms' scale, over the whole batch
        shared = Shared(step, x, latent, z, z_power, torch.Generator().manual_seed(t.seed * 1_000_003 + step), light_terms)
        for theme in model.generators:
            terms, theme_record = _theme_step(model, nets, opts, data, cfg, world, theme, shared)
            encoder_terms += terms
            record.update(theme_record)
    loss_auto = losses.autoencoder_loss(x, nets.decoder(latent))
    (loss_auto + sum(encoder_terms)).backward()
    opts["autoencoder"].step()
    record["loss_auto"] = loss_auto.item()
    return record


def _warmup_match(model: YGan, nets: Nets, opts: dict[str, torch.optim.Optimizer], data: Data, t: TrainConfig, theme: str,
                  step: int, x: torch.Tensor, latent: torch.Tensor, light_terms: tuple | None) -> dict[str, float]:
    """A warm-up step of one generator: the theme-match term alone, against a detached z, on the patch
    model's output (with a colour path, G learns the target minus the input's colour)."""
    fake = model.restored(x, nets.generators[theme](latent.detach()))
    loss_m = losses.theme_match_loss(fake, _match(data, t, theme, step, x, light_terms))
    opts[f"generator.{theme}"].zero_grad()
    loss_m.backward()
    opts[f"generator.{theme}"].step()
    return {f"theme_match.{theme}": loss_m.item()}


@dataclass(frozen=True)
class Shared:
    """What every theme's adversarial update in one step shares."""
    step: int
    x: torch.Tensor  # this rank's shard of the domain-A batch
    latent: torch.Tensor  # E(x) with gradients: the paired term trains E through it
    z: torch.Tensor  # E(x) detached: the generators' input
    z_power: torch.Tensor  # mean z² over the whole batch, the cycle terms' scale
    mixing: torch.Generator  # this step's draws: augmentation, then the penalty's mixing weights, theme by theme
    light_terms: tuple | None  # the lighting of x for the theme-match targets, once per batch


def _theme_step(model: YGan, nets: Nets, opts: dict[str, torch.optim.Optimizer], data: Data, cfg: Config, world: World,
                theme: str, s: Shared) -> tuple[list[torch.Tensor], dict[str, float]]:
    """One theme's adversarial update: its critic, then its generator against the frozen critic;
    returns the encoder's terms from this theme (backpropagated with the others, once) and the losses."""
    t = cfg.train
    matched = _match(data, t, theme, s.step, s.x, s.light_terms) if t.theme_match or t.critic_real == "matched" else None
    y = world.shard(data.b[theme].train.batch(s.step, t.batch)) if t.critic_real == "tiles" else _first(matched)
    fake = model.restored(s.x, nets.generators[theme](s.z))
    seen, seen_real = _critic_views(fake, y, t, cfg.model.patch, s.mixing, world)
    alpha = world.shard(torch.rand(t.batch, generator=s.mixing))
    loss_d, penalty = _critic_step(nets.critics[theme], opts[f"critic.{theme}"], seen, seen_real, alpha, t.gp_weight)
    loss_g, record = _generator_step(model, opts[f"generator.{theme}"], data, t, theme, s, fake, seen, matched, y)
    terms = _encoder_terms(model, nets, data, t, theme, s, fake, y)
    return terms, {**record, f"loss_d.{theme}": loss_d.item(), f"loss_g.{theme}": loss_g.item(), f"gp.{theme}": penalty.item()}


def _critic_views(fake: torch.Tensor, real: torch.Tensor, t: TrainConfig, patch: int, mixing: torch.Generator,
                  world: World) -> tuple[torch.Tensor, torch.Tensor]:
    """What the critic sees of the fakes and the real patches: luminance only (critic_luma) and both
    through DiffAugment (critic_augment), each side its own draw of the same kind."""
    seen, seen_real = fake, real
    if t.critic_luma:  # shape, not colour: the photograph's colours are the target's, nothing to judge
        seen, seen_real = grey(seen), grey(seen_real)
    if t.critic_augment:  # the same kind of draw for both sides, then every critic call sees augmented patches
        seen = augment.apply(seen, world.shard(augment.draw(mixing, t.batch, patch)))
        seen_real = augment.apply(seen_real, world.shard(augment.draw(mixing, t.batch, patch)))
    return seen, seen_real


def _critic_step(critic: torch.nn.Module, opt: torch.optim.Optimizer, seen: torch.Tensor, seen_real: torch.Tensor,
                 alpha: torch.Tensor, gp_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The critic's WGAN-GP update on detached fakes; returns its loss and the gradient penalty."""
    penalty = losses.gradient_penalty(critic, seen_real, seen.detach(), alpha)
    loss_d = losses.critic_loss(critic(seen.detach()), critic(seen_real), penalty, gp_weight)
    opt.zero_grad()
    loss_d.backward()
    opt.step()
    return loss_d, penalty


def _generator_step(model: YGan, opt: torch.optim.Optimizer, data: Data, t: TrainConfig, theme: str, s: Shared,
                    fake: torch.Tensor, seen: torch.Tensor, matched: torch.Tensor | None,
                    y: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """The generator's update against the frozen critic and encoder (adversarial and cycle terms),
    plus the theme-match and, with paired data, the pixel terms; returns its loss and those terms."""
    record = {}
    frozen_critic = model.critics[theme].requires_grad_(False)
    model.encoder.requires_grad_(False)
    loss_g = losses.generator_loss(frozen_critic(seen), s.z, model.encoder(fake), t.lambda_cycle, s.z_power, t.adversarial)
    if t.theme_match:
        loss_m = losses.theme_match_loss(fake, matched)
        loss_g = loss_g + t.theme_match * loss_m
        record[f"theme_match.{theme}"] = loss_m.item()
    if data.paired:
        loss_pair = losses.paired_loss(fake, y, s.x, t.paired_form, t.paired_floor)
        loss_g = loss_g + t.paired * loss_pair
        record[f"paired.{theme}"] = loss_pair.item()
    if data.paired and t.chroma:
        loss_chroma = losses.chroma_loss(fake, y)
        loss_g = loss_g + t.chroma * loss_chroma
        record[f"chroma.{theme}"] = loss_chroma.item()
    opt.zero_grad()
    loss_g.backward()
    opt.step()
    frozen_critic.requires_grad_(True)
    model.encoder.requires_grad_(True)
    return loss_g, record


def _encoder_terms(model: YGan, nets: Nets, data: Data, t: TrainConfig, theme: str, s: Shared, fake: torch.Tensor,
                   y: torch.Tensor) -> list[torch.Tensor]:
    """The encoder's terms from this theme: reading z back from the detached G(z) (cycle_encoder) and,
    with paired data, the pixel and chroma losses through the frozen generator."""
    terms = []
    if t.cycle_encoder:
        terms.append(t.cycle_encoder * losses.cycle_loss(s.z, nets.encoder(fake.detach()), s.z_power))
    if data.paired and (t.paired or t.chroma):
        frozen_gen = model.generators[theme].requires_grad_(False)
        restored = model.restored(s.x, frozen_gen(s.latent))
        if t.paired:
            terms.append(t.paired * losses.paired_loss(restored, y, s.x, t.paired_form, t.paired_floor))
        if t.chroma:
            terms.append(t.chroma * losses.chroma_loss(restored, y))
        frozen_gen.requires_grad_(True)
    return terms


def _write_artifacts(out: Path, model: YGan, data: Data, cfg: Config) -> None:
    loss_curve(out / METRICS, out / "loss_curve.png")
    sample_grid(model, data.a.heldout.fixed(8), out / "samples.png")


def _check_resumable(saved: Config, wanted: Config, out: Path) -> None:
    """A resume may extend the run (train.steps) or change threads, nothing that alters the math."""
    free = {"steps", "threads", "checkpoint_every", "log_every"}
    a, b = saved.to_dict(), wanted.to_dict()
    changed = [f"{s}.{k}" for s in a for k in a[s] if a[s][k] != b[s][k] and not (s == "train" and k in free)]
    if changed:
        raise YganError(f"cannot resume '{out}': the checkpoint was trained with other values of {', '.join(changed)}; "
                        "rerun with the original preset and overrides, or start a new --out")


@dataclass
class TrainResult:
    out: Path
    step: int
    interrupted: bool
    metrics: dict  # empty on ranks other than 0, which write nothing
    main: bool = True


def train(cfg: Config, out: str | Path, resume: bool = False, progress: bool = True) -> TrainResult:
    """One process, or one rank of a torchrun job (docs/distributed.md): every rank trains on its
    shard, rank 0 alone evaluates, logs, draws and writes checkpoints."""
    world = join(cfg.train.batch)
    result = _train(cfg, Path(out), resume, progress, world)
    leave(world)
    return result


def _train(cfg: Config, out: Path, resume: bool, progress: bool, world: World) -> TrainResult:
    torch.set_num_threads(world.threads(cfg.train.threads))
    data = load_data(cfg)  # before the folder is made, so a bad data path leaves nothing behind
    if world.main:
        out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.train.seed)
    model = YGan.create(cfg.model, list(cfg.data.themes))
    channels_last(*model.modules().values())
    opts = make_optimizers(model, cfg)
    start, meta = 0, {}
    if resume:
        ckpt = checkpoint.load(out)
        _check_resumable(ckpt.config, cfg, out)
        checkpoint.restore(ckpt, model, opts)
        start, meta = ckpt.step, {k: v for k, v in ckpt.meta.items() if k != "param_groups"}
    elif world.main:
        meta["initial"] = evaluate(model, data, cfg)
    for module in model.modules().values():
        module.train()
    nets = Nets.of(model, world)

    def step_fn(step: int) -> dict[str, float]:
        set_learning_rates(opts, cfg, step)
        return train_step(model, nets, opts, data, step, cfg, world)

    def save(step: int) -> None:
        checkpoint.save(out, model, opts, step, cfg, meta)
        _write_artifacts(out, model, data, cfg)

    end = run_steps(step_fn, save, start=start, schedule=Schedule(cfg.train.steps, cfg.train.log_every, cfg.train.checkpoint_every),
                    log_path=out / METRICS, world=world, desc="train", headline="loss_auto", progress=progress)
    step = end.step
    for module in model.modules().values():
        module.eval()
    summary: dict = {}
    if world.main:
        final = evaluate(model, data, cfg)
        meta["final"] = final
        save(step)
        summary = {"step": step, "initial": meta.get("initial"), "final": final,
                   "cycle_improvement": meta["initial"]["cycle_rel"] / max(final["cycle_rel"], 1e-12) if meta.get("initial") else None}
        if data.spread:
            summary["spread_keys"] = data.spread  # the build names these themes: their tiles' light was too narrow
        write_text(out / SUMMARY, json.dumps(summary, indent=2) + "\n")
    return TrainResult(out, step, step < cfg.train.steps, summary, world.main)
