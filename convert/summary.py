"""The one-screen summary of a convert run: artifact, size, parity and whether it passes."""

from __future__ import annotations

from convert.bundle import Result


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def rows(result: Result) -> list[tuple[str, str, str, str]]:
    out = []
    for a in result.manifest["artifacts"]:
        p = a["parity"]
        db = p.get("psnr_db")
        if db is not None:
            shown = f"{db:.1f} dB"
        elif "estimate_db" in p:
            shown = f"est. {p['estimate_db']:.1f} dB"
        else:
            shown = "exact" if p["status"] == "pass" else "—"
        out.append((a["id"], _size(a["size"]), f"{shown} (≥{p['threshold_db']:g}, {p['backend']})", p["status"]))
    return out


def print_summary(result: Result, seconds: float) -> None:
    table = rows(result)
    header = ("artifact", "size", "parity", "status")
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(4)]
    line = "  ".join("{:<%d}" % w for w in widths)
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print(line.format(*row))
    counts = {s: sum(r[3] == s for r in table) for s in ("pass", "fail", "not verified")}
    stages = ", ".join(f"{k} {v:.0f}s" for k, v in result.seconds.items())
    print(f"\n{len(table)} artifacts: {counts['pass']} pass, {counts['fail']} fail, {counts['not verified']} not verified"
          f" — {seconds:.0f}s ({stages})")
    print(f"bundle: {result.out.resolve()}  (manifest.json)")
