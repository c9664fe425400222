"""The one-screen end of `ygan build`: per stage what happened, how long it took, its key numbers."""

from __future__ import annotations

from ygan.build_stages import STAGES, Context

GIVES_BACK_DB = 0.005  # a restoration student this close to its input's PSNR changes (almost) nothing: its units died


def _result(name: str, n: dict, ctx: Context) -> str:
    if not n:
        return ""
    if name == "train":
        spread = "".join(f"; {theme}: keys spread (its tiles' light covered {100 * c:.0f}% of the photographs')"
                         for theme, c in n.get("spread_keys", {}).items())
        return f"teacher autoencoder PSNR {n['psnr_auto']:.2f} dB (step {n['step']}){spread}"
    if name == "distill":
        gain = (f"; held-out patches {n['student_gain_min']:+.2f} dB over the input (teacher {n['teacher_gain_min']:+.2f})"
                + (" — the student gives back its input" if abs(n["student_gain_min"]) < GIVES_BACK_DB else "")
                if "student_gain_min" in n else "")
        return f"student {n['mac_ratio']:.1f}× fewer MACs, {n['param_ratio']:.1f}× fewer params (step {n['step']}){gain}"
    if name == "convert":
        return f"{n['artifacts']} artifacts ({', '.join(n['formats'])})"
    if name == "verify":
        verdict = "ok" if n["ok"] else "FAILED"
        return f"{n['pass']} pass, {n['fail']} fail, {n['not verified']} not verified — {verdict}"
    if name == "quality":
        if "skipped" in n:
            return n["skipped"]
        best = n["models"].get("int8-full") or n["models"]["student"]
        which = "int8-full" if "int8-full" in n["models"] else "student"
        recog = ", ".join(f"{t} {100 * s['recognisability']:.0f}% / {s.get('picture_r', s['structure_r']):.2f}" for t, s in best.items())
        return f"judge {100 * n['judge_accuracy']['mean']:.0f}% accurate; {which} recognisable / picture r: {recog}"
    return str(ctx.bundle / n["index"])


def rows(ctx: Context) -> list[tuple[str, str, str, str]]:
    out = []
    for k, stage in enumerate(STAGES, 1):
        run = ctx.state.last_run.get(stage.name, {"status": "not run"})
        record = ctx.state.stages.get(stage.name)
        numbers = record.numbers if record is not None and record.status == "done" else {}
        seconds = f"{run['seconds']:.0f} s" if run["status"] not in ("skipped", "not run") else "-"
        out.append((f"{k}/{len(STAGES)} {stage.name}", run["status"], seconds, _result(stage.name, numbers, ctx)))
    return out


def print_summary(ctx: Context, seconds: float) -> None:
    table = rows(ctx)
    header = ("stage", "status", "time", "result")
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(3)]
    line = "{:<%d}  {:<%d}  {:>%d}  {}" % tuple(widths)
    print()
    print(line.format(*header))
    for row in table:
        print(line.format(*row))
    print(f"total {seconds:.0f} s — bundle {ctx.bundle.resolve()}")
    statuses = {name: run["status"] for name, run in ctx.state.last_run.items()}
    if "interrupted" in statuses.values():
        print("interrupted: run the same command again to continue where it stopped")
    verify = ctx.state.stages.get("verify")
    if statuses.get("verify") in ("ran", "skipped") and verify is not None and not verify.numbers["ok"]:
        print(f"verify FAILED ({verify.numbers['fail']} artifact(s) below threshold): details in "
              f"{(ctx.bundle / 'parity.json').resolve()} and the report; this bundle must not ship")
    quality = ctx.state.stages.get("quality")
    if statuses.get("quality") in ("ran", "skipped") and quality is not None and "models" in quality.numbers:
        from ygan.build_quality import table

        n = quality.numbers
        print("mosaic quality (held-out photographs; docs/build.md \"Mosaic quality\"):")
        doc = {"judge": {"accuracy": n["judge_accuracy"], "counts": n["judge_counts"]}, "models": n["models"],
               "baselines": n.get("baselines", {}),
               "settings": {"judges": n.get("judges", 1)},
               "notes": n.get("notes", []), "warnings": n.get("warnings", [])}
        for line in table(doc):
            print(f"  {line}")
    report = ctx.state.stages.get("report")
    if statuses.get("report") in ("ran", "skipped") and report is not None:
        print(f"report: {(ctx.bundle / report.numbers['index']).resolve()}")
