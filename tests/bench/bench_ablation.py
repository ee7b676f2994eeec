"""`make bench-ablation`: what each performance change bought, measured in one sitting.

Each revision given (git revisions, oldest first; "." is this working tree) is checked out into a
temporary worktree and run on both profiles exactly as `make bench` runs the app (shipped gunicorn
defaults, access log on), beside the reference project's C page. Per revision and profile: the
warm order page (4103) under `wrk -t2 -c32 -d{BENCH_SECONDS}s --latency`, in interleaved rounds,
its ratio to C from the same round, and the cold order page's overhead over the sandbox's own
latency: the same 20 cold orders (BENCH_COLD_ORDERS: up to 121), order by order, every revision
in turn, so that a sitting's drift does not fall on whichever revision is measured last.
Consecutive revisions differ by one lever, so each line's change is that lever's.
BENCH_SCENARIOS (comma-separated names from `make bench`) measures other pages too, one table
each: "warm order 4103,receipt fragment 4103,warm list page".

    BENCH_REVS="1fc7c28 cf8cfce ca34c1c ." make bench-ablation

It is a benchmark, not a test.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
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
    ColdSample,
    bench_sandbox,
    check_page,
    clean,
    cold_summary,
    sandbox_token,
    wrk,
)
from tests.bench.reference import Reference  # noqa: E402

PROFILES = {"embedded": {}, "production": PRODUCTION}
# Cold orders per revision and profile: the sandbox's generated orders from 5120 on, up to 5240.
COLD_ORDERS = min(int(os.environ.get("BENCH_COLD_ORDERS", "20")), 121)
SCENARIOS = [name.strip() for name in os.environ.get("BENCH_SCENARIOS", "warm order 4103").split(",") if name.strip()]


def checkout(rev: str, tmp: Path) -> tuple[str, Path]:
    """(a label, the checkout to run) for a revision; "." is this working tree as it is."""
    if rev == ".":
        return "working tree", ROOT
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True)
    label = sha.stdout.strip()
    path = tmp / f"rev-{label}"
    subprocess.run(["git", "worktree", "add", "--detach", str(path), label], cwd=ROOT, capture_output=True, check=True)
    return label, path


def subject(label: str, root: Path) -> str:
    if root == ROOT:
        return "(uncommitted changes included)" if label == "working tree" else ""
    out = subprocess.run(["git", "log", "-1", "--format=%s"], cwd=root, capture_output=True, text=True, check=True)
    return out.stdout.strip()[:70]


def main() -> None:
    revs = (os.environ.get("BENCH_REVS") or " ".join(sys.argv[1:]) or ".").split()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ablation-"))
    sandbox = bench_sandbox()
    reference = Reference(tmp)
    reference.prepare()
    reference.start()
    apps: dict[tuple[str, str], AppUnderTest] = {}
    subjects: dict[str, str] = {}
    worktrees: list[Path] = []
    try:
        for rev in revs:
            label, root = checkout(rev, tmp)
            if root != ROOT:
                worktrees.append(root)
            subjects[label] = subject(label, root)
            for profile, environ in PROFILES.items():
                apps[(label, profile)] = AppUnderTest(f"{label} {profile}", environ, sandbox, tmp, root=root)
        c_runs: list[dict[str, float]] = []
        runs: dict[tuple[str, str, str], list[dict[str, float]]] = {
            (scenario, *key): [] for scenario in SCENARIOS for key in apps
        }
        for _ in range(ROUNDS):
            check_page(f"{reference.base_url}/authed", reference.cookie, "Section 6")
            c_runs.append(wrk(f"{reference.base_url}/authed", reference.cookie))
            for scenario in SCENARIOS:
                for key, app in apps.items():
                    runs[(scenario, *key)].append(app.run(scenario))
        token = sandbox_token(sandbox)
        # Each app has its own cache, so every app sees the same orders cold. Order by order, every
        # app in turn: a sitting's drift falls on all revisions alike, not on the last one measured.
        samples: dict[tuple[str, str], list[ColdSample]] = {key: [] for key in apps}
        for order_id in range(5120, 5120 + COLD_ORDERS):
            for key, app in apps.items():
                samples[key].append(app.cold_sample(token, order_id))
        cold = {key: cold_summary(found) for key, found in samples.items()}
    finally:
        for app in apps.values():
            app.stop()
        reference.stop()
        sandbox.stop()
        for path in worktrees:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nwrk -t2 -c32 -d{WRK_SECONDS}s --latency, {ROUNDS} interleaved rounds")
    print("C (reference, same rounds): " + " / ".join(f"{r['rps']:.0f}" for r in c_runs) + " rps")
    for scenario in SCENARIOS:
        of_scenario = {(label, profile): found for (name, label, profile), found in runs.items() if name == scenario}
        print_table(scenario, of_scenario, c_runs, cold, subjects)


def print_table(
    scenario: str,
    runs: dict[tuple[str, str], list[dict[str, float]]],
    c_runs: list[dict[str, float]],
    cold: dict[tuple[str, str], dict[str, float]],
    subjects: dict[str, str],
) -> None:
    print(
        f"\n{scenario} (cold +ms: the cold order page's overhead, whatever the scenario, order by order across the"
        " revisions; order-only: over the pages whose only upstream call was the order, and how many)"
    )
    print(
        f"{'revision':<14}{'profile':<12}{'rps':>14}{'÷ C':>14}{'p50 ms':>8}{'p99 ms':>8}{'cold +ms':>10}"
        f"{'order-only':>13}  change"
    )
    for (label, profile), results in runs.items():
        ratios = " / ".join(
            f"{r['rps'] / c['rps']:.2f}" if clean(r) and clean(c) else "n/a"
            for r, c in zip(results, c_runs, strict=True)
        )
        print(
            f"{label:<14}{profile:<12}{' / '.join(f'{r["rps"]:.0f}' for r in results):>14}{ratios:>14}"
            f"{statistics.median(r['p50'] for r in results):>8.1f}{statistics.median(r['p99'] for r in results):>8.1f}"
            f"{cold[(label, profile)]['overhead_p50']:>10.1f}"
            f"{cold[(label, profile)]['one_call_overhead_p50']:>7.1f} ({cold[(label, profile)]['one_call_n']:>3})"
            f"  {subjects[label] if profile == 'embedded' else ''}"
        )


if __name__ == "__main__":
    main()
