"""Time to a deployable build, per release profile. Prints figures; asserts nothing.

For each setting of link-time optimisation (fat, thin, off) and codegen units
(1, 16), in turn and each in its own empty target directory:

- a cold `cargo lambda build --release --arm64` (what `make build` runs): wall
  time and the zip's size;
- a native release build of the same profile in the same directory (host
  build scripts and proc macros already built, so its time is not a cold
  figure), and its start-up, spawn -> first poll, in alternating rounds
  against a fixed bare lambda_runtime echo (`make bench`'s reference).

The profile is set through cargo's CARGO_PROFILE_RELEASE_* variables, so the
checkout's Cargo.toml is not touched. Each finished profile is appended as one
JSON line to --results, and the target directory is removed (the native
bootstrap is kept next to the results): a long run can be stopped and resumed,
profiles already in the results are skipped. --table prints the README table
from the results; --build-only takes another sample of the cold arm64 build
(one run per profile on a shared machine is noisy).

Usage: python scripts/build_profiles.py --echo target/release/echo
           [--profiles off-16,thin-16,...] [--work DIR] [--results FILE] [--table]
"""

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

from bench import start_up_alternating

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Quickest first, so that a run cut short has measured the candidates.
PROFILES = ["off-16", "thin-16", "off-1", "thin-1", "fat-16", "fat-1"]


def build(args, env, label):
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{label} failed:\n{done.stderr[-3000:]}")
    return seconds


def measure(profile, work, echo, rounds, build_only=False):
    lto, units = profile.split("-")
    target = work / profile
    shutil.rmtree(target, ignore_errors=True)
    env = dict(os.environ, CARGO_TARGET_DIR=str(target), CARGO_PROFILE_RELEASE_LTO=lto,
               CARGO_PROFILE_RELEASE_CODEGEN_UNITS=units, CARGO_TERM_COLOR="never",
               PATH=f"{ROOT / '.venv-tools' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    arm64 = build(["cargo", "lambda", "build", "--release", "--arm64", "--output-format", "zip",
                   "--bin", "bootstrap"], env, f"{profile}: arm64 build")
    zip_bytes = (target / "lambda" / "bootstrap" / "bootstrap.zip").stat().st_size
    if build_only:
        shutil.rmtree(target, ignore_errors=True)
        return {"profile": profile, "arm64_cold_build_s": round(arm64), "zip_mb": round(zip_bytes / 1e6, 2),
                "measured": time.strftime("%Y-%m-%d")}
    native = build(["cargo", "build", "--release", "--bin", "bootstrap"], env, f"{profile}: native build")
    kept = work / f"bootstrap-{profile}"
    shutil.copy2(target / "release" / "bootstrap", kept)
    shutil.rmtree(target, ignore_errors=True)
    ours, bare = start_up_alternating(str(kept), echo, rounds)
    return {"profile": profile, "lto": lto, "codegen_units": int(units),
            "arm64_cold_build_s": round(arm64), "native_build_s": round(native),
            "zip_mb": round(zip_bytes / 1e6, 2), "binary_mb": round(kept.stat().st_size / 1e6, 1),
            "start_up_ms": round(statistics.median(ours), 2), "bare_ms": round(statistics.median(bare), 2),
            "start_up_ratio": round(statistics.median(ours) / statistics.median(bare), 2),
            "rounds": rounds, "measured": time.strftime("%Y-%m-%d")}


def table(rows):
    print("| LTO | codegen units | cold arm64 build | zip (arm64) | start-up vs bare runtime |")
    print("|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: PROFILES.index(r["profile"])):
        minutes, seconds = divmod(r["arm64_cold_build_s"], 60)
        print(f"| {r['lto']} | {r['codegen_units']} | {minutes}m{seconds:02d} | {r['zip_mb']:.2f} MB "
              f"| {r['start_up_ms']:.2f} / {r['bare_ms']:.2f} ms = {r['start_up_ratio']:.2f}x |")
    fit = [r for r in rows if r["start_up_ratio"] <= 1.3 and r["zip_mb"] < 8]
    if fit:
        best = min(fit, key=lambda r: r["arm64_cold_build_s"])
        print(f"\nshortest build within 1.3x start-up and 8 MB: lto={best['lto']}, "
              f"codegen-units={best['codegen_units']}")
    missing = [p for p in PROFILES if p not in {r["profile"] for r in rows}]
    if missing:
        print(f"not measured yet: {', '.join(missing)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--echo", required=True, help="the bare lambda_runtime reference (make bench builds it)")
    parser.add_argument("--profiles", default=",".join(PROFILES))
    parser.add_argument("--work", default=str(pathlib.Path.home() / ".cache" / "bedrock-customization-setup" / "profiles"))
    parser.add_argument("--results")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--table", action="store_true", help="only print the table from --results")
    parser.add_argument("--build-only", action="store_true",
                        help="another sample of the cold arm64 build alone, printed, not kept in the results")
    args = parser.parse_args()
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results = pathlib.Path(args.results) if args.results else work / "results.jsonl"
    rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    if not args.table:
        for profile in args.profiles.split(","):
            if profile not in PROFILES:
                sys.exit(f"--profiles: {profile!r} is not one of {', '.join(PROFILES)}")
            if args.build_only:
                print(json.dumps(measure(profile, work, None, 0, build_only=True)), flush=True)
                continue
            if any(r["profile"] == profile for r in rows):
                continue
            row = measure(profile, work, os.path.abspath(args.echo), args.rounds)
            print(json.dumps(row), flush=True)
            with results.open("a") as f:
                f.write(json.dumps(row) + "\n")
            rows.append(row)
    if not args.build_only:
        table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
