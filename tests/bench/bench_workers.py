"""`make bench-workers`: gunicorn's worker model, side by side with C, in one sitting.

The shipped default is gthread (8 threads per worker) because a slow Clopos or a slow client then
holds a thread, not a process (issue 9, `make bench-starvation`), with the accept gate (a worker
takes a new connection only while fewer than GUNICORN_ACCEPT_GATE of its threads run Python):
gunicorn's own gthread worker (GUNICORN_ACCEPT_GATE=0) costs tail latency against plain sync
workers under `wrk -t2 -c32`. This prints, for each variant
and profile, the warm order page and the warm orders list beside the reference project's C page
(same rounds): rps, p50, p99, p99/p50 and the ratio to C, so the price of the default is a
figure, not a guess. Variants are gunicorn settings from the environment, `;`-separated, each a
comma-separated list of NAME=value (an empty variant is the shipped default):

    BENCH_WORKER_VARIANTS=";GUNICORN_ACCEPT_GATE=0;GUNICORN_THREADS=1" make bench-workers

BENCH_PROFILES="production" (or "embedded") runs one profile only. It is a benchmark, not a test.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


from tests.bench.bench_pages import (  # noqa: E402
    PRODUCTION,
    ROUNDS,
    WRK_SECONDS,
    AppUnderTest,
    bench_sandbox,
    check_page,
    ratio,
    tail_ratio,
    wrk,
)
from tests.bench.reference import Reference  # noqa: E402

DEFAULT_VARIANTS = ";GUNICORN_ACCEPT_GATE=0;GUNICORN_THREADS=1"
SCENARIOS = ("warm order 4103", "warm list page")
PROFILES = {"embedded": {}, "production": PRODUCTION}


def parse_variants(text: str) -> dict[str, dict[str, str]]:
    """'A=1,B=2;C=3' → {'A=1,B=2': {'A': '1', 'B': '2'}, 'C=3': {'C': '3'}}; '' is the default."""
    variants: dict[str, dict[str, str]] = {}
    for variant in text.split(";"):
        pairs = [pair.strip() for pair in variant.split(",") if pair.strip()]
        variants[",".join(pairs) or "shipped default"] = dict(pair.split("=", 1) for pair in pairs)
    return variants


def main() -> None:
    variants = parse_variants(os.environ.get("BENCH_WORKER_VARIANTS", DEFAULT_VARIANTS))
    profiles = {
        name: PROFILES[name] for name in os.environ.get("BENCH_PROFILES", "embedded,production").split(",") if name
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    sandbox = bench_sandbox()
    reference = Reference(tmp)
    reference.prepare()
    reference.start()
    apps: dict[tuple[str, str], AppUnderTest] = {}
    try:
        for index, (variant, settings) in enumerate(variants.items()):
            for profile, environ in profiles.items():
                apps[(variant, profile)] = AppUnderTest(
                    f"workers-{index} {profile}", environ, sandbox, tmp, app_env=settings
                )
        c_runs: list[dict[str, float]] = []
        runs: dict[tuple[str, str, str], list[dict[str, float]]] = {}
        for _ in range(ROUNDS):
            check_page(f"{reference.base_url}/authed", reference.cookie, "Section 6")
            c_runs.append(wrk(f"{reference.base_url}/authed", reference.cookie))
            for (variant, profile), app in apps.items():
                for scenario in SCENARIOS:
                    runs.setdefault((variant, profile, scenario), []).append(app.run(scenario))
    finally:
        for app in apps.values():
            app.stop()
        reference.stop()
        sandbox.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nwrk -t2 -c32 -d{WRK_SECONDS}s --latency, {ROUNDS} interleaved rounds (per round: rps, ÷ C)")
    print(
        f"{'variant':<44}{'profile':<12}{'scenario':<17}{'rps':>12}{'÷ C':>13}{'p50 ms':>8}{'p99 ms':>8}{'p99/p50':>9}"
    )
    print(
        f"{'C (reference)':<73}{' / '.join(f'{r["rps"]:.0f}' for r in c_runs):>12}{'1.00':>13}"
        f"{statistics.median(r['p50'] for r in c_runs):>8.1f}{statistics.median(r['p99'] for r in c_runs):>8.1f}"
        f"{tail_ratio(c_runs):>9.2f}"
    )
    for (variant, profile, scenario), results in runs.items():
        # No ratio for a run with non-2xx answers or socket errors (bench_pages.ratio).
        ratios = " / ".join(ratio(r, c) for r, c in zip(results, c_runs, strict=True))
        print(
            f"{variant:<44}{profile:<12}{scenario.removeprefix('warm '):<17}"
            f"{' / '.join(f'{r["rps"]:.0f}' for r in results):>12}{ratios:>13}"
            f"{statistics.median(r['p50'] for r in results):>8.1f}{statistics.median(r['p99'] for r in results):>8.1f}"
            f"{tail_ratio(results):>9.2f}"
        )


if __name__ == "__main__":
    main()
