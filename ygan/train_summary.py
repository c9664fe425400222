"""The one-screen summaries printed at the end of long commands."""

from __future__ import annotations

from ygan_mobile.train import SUMMARY, TrainResult


def print_train_summary(result: TrainResult, seconds: float) -> None:
    m = result.metrics
    final, initial = m["final"], m.get("initial")
    state = "interrupted — continue with --resume" if result.interrupted else "finished"
    print(f"\ntraining {state} at step {result.step} in {seconds:.0f} s")
    print(f"  autoencoder PSNR (held-out)   {final['psnr_auto']:.2f} dB")
    if initial:
        print(f"  latent cycle error ‖z−E(G(z))‖/‖z‖  {initial['cycle_rel']:.3f} → {final['cycle_rel']:.3f}"
              f"  ({m['cycle_improvement']:.1f}× lower)")
    print(f"  {'theme':<12}{'cycle error':>12}{'critic gap D(y)−D(G(z))':>26}")
    for theme, t in final["themes"].items():
        print(f"  {theme:<12}{t['cycle_rel']:>12.3f}{t['critic_gap']:>26.3f}")
        if "psnr_restored" in t:
            print(f"  {'':<12}held-out patches vs ground truth: degraded {t['psnr_input']:.2f} dB → restored "
                  f"{t['psnr_restored']:.2f} dB (data range 2)")
    out = result.out
    print(f"  checkpoint   {out / 'checkpoint.safetensors'}")
    print(f"  samples      {out / 'samples.png'}")
    print(f"  loss curve   {out / 'loss_curve.png'}")
    print(f"  metrics      {out / SUMMARY}")
