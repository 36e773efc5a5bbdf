#!/usr/bin/env python3
"""Observed real-network distributions next to ictwin's predictions (Python 3 stdlib only).

Reads the 30-day mainnet export (--data: subnet_days.csv, subnets.csv; see its README) and the
coarse runs of experiments/real-ic/*.toml (--results: <preset>/summary.csv and manifest.json, as
written by experiments/real-ic/run.sh), and writes into --results:

- observed.csv: per subnet kind, the distribution of the daily finalized-block rate over all
  subnet-days, the distribution over subnets of their median daily rate, and of their mean
  finalized rank (30-day pooled failed / proposed), and the share of subnet-days with a dead node;
- predicted.csv: per preset, its parameters (from manifest.json) and the predicted block rate,
  round time, rank and finalization (from summary.csv), with 95% CI half-widths;
- dead_node.csv: per kind, the effect of a dead node (zero blocks that day) within a subnet: over
  the subnets that had days with and days without one, the change of the pooled mean finalized
  rank and of the mean block time (ms) from days without to days with, averaged with weights =
  days with a dead node; next to ictwin's preset and its one-node-down what-if;
- decomposition.csv: per kind, the least-squares line of a subnet's 30-day mean block time (ms,
  1000 / mean daily rate) on its mean finalized rank, across the kind's subnets: the intercept is
  the block time of a subnet without rank failures, the slope the block time each unit of mean
  rank costs (with standard errors); next to ictwin's own slope from the preset and its
  one-node-down what-if (round time difference / rank difference);
- comparison.md: the three side by side, as Markdown tables.

Quantiles are `statistics.quantiles(values, n=4, method="inclusive")` (linear interpolation
between order statistics, p0 = min, p100 = max). Output is deterministic: same inputs, same bytes.
"""

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

# Subnet kinds of the real network and the preset predicting each. A subnet belongs to a kind by
# its nominal size; "app-13 w/o 0.66" leaves out the two application subnets that run at a steady
# 0.66 blocks/s (2fq7c, eq6en), which look deliberately configured slower (unverified).
SLOW_PAIR = {"2fq7c", "eq6en"}
KINDS = [
    ("app-13", "13-node application (all)", lambda s: s["nominal_size"] == "13", "app-13"),
    (
        "app-13 w/o 0.66",
        "13-node application without 2fq7c, eq6en",
        lambda s: s["nominal_size"] == "13" and s["subnet_short"] not in SLOW_PAIR,
        "app-13",
    ),
    ("system-34", "34-node system (pzp6e, uzr34, x33ed)", lambda s: s["nominal_size"] == "34", "fiduciary-34"),
    ("nns-40", "40-node NNS (tdb26)", lambda s: s["nominal_size"] == "40", "nns-40"),
]


def quartiles(values):
    """(min, p25, median, p75, max) of a non-empty list; one value gives five equal numbers."""
    v = sorted(values)
    if len(v) == 1:
        return (v[0],) * 5
    q1, q2, q3 = statistics.quantiles(v, n=4, method="inclusive")
    return (v[0], q1, q2, q3, v[-1])


def read_csv(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"summarize.py: cannot read {path}: {e}")


def observed(data):
    """One dict per kind with the observed statistics (see module doc)."""
    subnets = {s["subnet_short"]: s for s in read_csv(data / "subnets.csv")}
    days = read_csv(data / "subnet_days.csv")
    rows = []
    for kind, label, member, preset in KINDS:
        names = sorted(k for k, s in subnets.items() if member(s))
        sd = [d for d in days if d["subnet_short"] in names and d["complete"] == "1"]
        rates = [float(d["block_rate_per_s"]) for d in sd]
        medians, ranks = [], []
        for n in names:
            mine = [d for d in sd if d["subnet_short"] == n]
            medians.append(statistics.median(float(d["block_rate_per_s"]) for d in mine))
            proposed = sum(int(d["blocks_proposed_sum"]) for d in mine)
            failed = sum(int(d["blocks_failed_sum"]) for d in mine)
            ranks.append(failed / proposed)
        dead = [int(d["nodes_zero_proposed"]) for d in sd]
        row = {"kind": kind, "label": label, "preset": preset, "subnets": len(names), "subnet_days": len(sd)}
        for prefix, values in [("day_rate", rates), ("subnet_median_rate", medians), ("subnet_mean_rank", ranks)]:
            for stat, x in zip(["min", "p25", "median", "p75", "max"], quartiles(values)):
                row[f"{prefix}_{stat}"] = x
        row["dead_node_day_share"] = sum(1 for x in dead if x > 0) / len(dead)
        row["max_dead_nodes"] = max(dead)
        rows.append(row)
    return rows


def ols(xs, ys):
    """Least squares y = a + b x: (a, se_a, b, se_b, r); standard errors need 3+ points."""
    n = len(xs)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    b = sxy / sxx
    a = my - b * mx
    if n < 3:
        return a, float("nan"), b, float("nan"), float("nan")
    s2 = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys)) / (n - 2)
    return a, (s2 * (1 / n + mx * mx / sxx)) ** 0.5, b, (s2 / sxx) ** 0.5, sxy / (sxx * syy) ** 0.5


def decomposition(data, pred):
    """Observed block time vs mean finalized rank per kind, next to ictwin's dead-node slope."""
    subnets = {s["subnet_short"]: s for s in read_csv(data / "subnets.csv")}
    days = read_csv(data / "subnet_days.csv")
    by_preset = {p["preset"]: p for p in pred}
    rows = []
    for kind, label, member, preset in KINDS:
        xs, ys = [], []
        for n in sorted(k for k, s in subnets.items() if member(s)):
            mine = [d for d in days if d["subnet_short"] == n and d["complete"] == "1"]
            proposed = sum(int(d["blocks_proposed_sum"]) for d in mine)
            xs.append(sum(int(d["blocks_failed_sum"]) for d in mine) / proposed)
            ys.append(1000.0 * len(mine) / sum(float(d["block_rate_per_s"]) for d in mine))
        if len(xs) < 2:
            continue
        a, se_a, b, se_b, r = ols(xs, ys)
        base, dead = by_preset.get(preset), by_preset.get(preset + "-dead-1")
        slope = float("nan")
        if base and dead and dead["mean_notarized_rank"] > base["mean_notarized_rank"]:
            slope = (dead["mean_round_ms"] - base["mean_round_ms"]) / (
                dead["mean_notarized_rank"] - base["mean_notarized_rank"]
            )
        rows.append(
            {
                "kind": kind,
                "label": label,
                "subnets": len(xs),
                "intercept_ms": a,
                "intercept_ms_se": se_a,
                "slope_ms_per_rank": b,
                "slope_ms_per_rank_se": se_b,
                "r": r,
                "preset": preset,
                "preset_round_ms": base["mean_round_ms"] if base else float("nan"),
                "preset_slope_ms_per_rank": slope,
            }
        )
    return rows


def dead_node_effect(data, pred):
    """Within-subnet change of rank and block time on dead-node days (see module doc)."""
    subnets = {s["subnet_short"]: s for s in read_csv(data / "subnets.csv")}
    days = read_csv(data / "subnet_days.csv")
    by_preset = {p["preset"]: p for p in pred}

    def rank(ds):
        return sum(int(d["blocks_failed_sum"]) for d in ds) / sum(int(d["blocks_proposed_sum"]) for d in ds)

    def block_ms(ds):
        return 1000.0 * len(ds) / sum(float(d["block_rate_per_s"]) for d in ds)

    rows = []
    for kind, label, member, preset in KINDS:
        n_sub = n_days = 0
        d_rank = d_ms = 0.0
        for n in sorted(k for k, s in subnets.items() if member(s)):
            mine = [d for d in days if d["subnet_short"] == n and d["complete"] == "1"]
            up = [d for d in mine if d["nodes_zero_proposed"] == "0"]
            down = [d for d in mine if d["nodes_zero_proposed"] != "0"]
            if up and down:
                n_sub += 1
                n_days += len(down)
                d_rank += len(down) * (rank(down) - rank(up))
                d_ms += len(down) * (block_ms(down) - block_ms(up))
        if n_days == 0:
            continue
        base, dead = by_preset.get(preset), by_preset.get(preset + "-dead-1")
        rows.append(
            {
                "kind": kind,
                "label": label,
                "subnets_with_both": n_sub,
                "dead_node_days": n_days,
                "delta_rank": d_rank / n_days,
                "delta_block_ms": d_ms / n_days,
                "preset": preset,
                "preset_delta_rank": dead["mean_notarized_rank"] - base["mean_notarized_rank"]
                if base and dead
                else float("nan"),
                "preset_delta_round_ms": dead["mean_round_ms"] - base["mean_round_ms"]
                if base and dead
                else float("nan"),
            }
        )
    return rows


def predicted(results):
    """One dict per preset run found under results/ (a directory with summary.csv)."""
    rows = []
    for d in sorted(p for p in results.iterdir() if (p / "summary.csv").is_file()):
        summary = read_csv(d / "summary.csv")[0]
        manifest = json.loads((d / "manifest.json").read_text())
        sc = manifest["scenario"]
        delay = sc["network"]["delay"]
        network = delay["file"] if delay["dist"] == "empirical" else (
            f'{delay["dist"]} ' + " ".join(f"{k}={v}" for k, v in sorted(delay.items()) if k != "dist")
        )
        rows.append(
            {
                "preset": d.name,
                "scenario": summary["scenario"],
                "nodes": int(summary["nodes"]),
                "unit_delay_ms": sc["subnet"]["unit_delay_ms"],
                "initial_notary_delay_ms": sc["subnet"]["initial_notary_delay_ms"],
                "crashed": sc["faults"]["crashed"],
                "round_overhead_ms": sc.get("calibration", {}).get("round_overhead_ms", 0.0),
                "network": network,
                "replica_rounds": int(summary["rounds_total"]),
                "seed": int(summary["seed"]),
                "block_rate_per_s": float(summary["block_rate_per_s"]),
                "block_rate_per_s_ci95": float(summary["block_rate_per_s_ci95"]),
                "mean_round_ms": float(summary["mean_round_ms"]),
                "mean_round_ms_ci95": float(summary["mean_round_ms_ci95"]),
                "mean_notarized_rank": float(summary["mean_notarized_rank"]),
                "rank0_ratio": float(summary["rank0_ratio"]),
                "finalized_ratio": float(summary["finalized_ratio"]),
                "mean_finalization_ms": float(summary["mean_finalization_ms"]),
            }
        )
    return rows


def fmt(x, digits=3):
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: fmt(v, 6) for k, v in r.items()})


def markdown(obs, pred, dec, dead):
    by_preset = {p["preset"]: p for p in pred}
    out = [
        "<!-- Generated by experiments/real-ic/summarize.py from ../shared/data/real-ic/ and",
        "     results/real-ic/<preset>/; do not edit by hand (experiments/real-ic/run.sh). -->",
        "",
        "### Observed (mainnet, 2025-12-14 to 2026-01-12) and predicted (ictwin coarse, preset)",
        "",
        "| kind | subnets (subnet-days) | daily rate, all subnet-days: min / p25 / median / p75 / max (blocks/s)"
        " | median daily rate per subnet: min / median / max | mean finalized rank per subnet: min / median / max"
        " | subnet-days with a dead node | preset | predicted rate (± 95% CI) | predicted mean rank |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in obs:
        p = by_preset.get(o["preset"])
        pr = f'{p["block_rate_per_s"]:.3f} ± {p["block_rate_per_s_ci95"]:.4f}' if p else "(not run)"
        prk = f'{p["mean_notarized_rank"]:.4f}' if p else ""
        out.append(
            f'| {o["label"]} | {o["subnets"]} ({o["subnet_days"]}) | '
            + " / ".join(f'{o["day_rate_" + s]:.2f}' for s in ["min", "p25", "median", "p75", "max"])
            + " | "
            + " / ".join(f'{o["subnet_median_rate_" + s]:.2f}' for s in ["min", "median", "max"])
            + " | "
            + " / ".join(f'{o["subnet_mean_rank_" + s]:.4f}' for s in ["min", "median", "max"])
            + f' | {100 * o["dead_node_day_share"]:.1f}% (at most {o["max_dead_nodes"]}) | `{o["preset"]}` | {pr} | {prk} |'
        )
    out += [
        "",
        "### Block time against rank failures, across subnets (least squares; ± one standard error)",
        "",
        "| kind | subnets | intercept: block time without rank failures (ms) | slope: ms per unit of mean rank | r"
        " | preset mean round (ms) | preset slope, one node down (ms per unit rank) |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in dec:
        out.append(
            f'| {d["label"]} | {d["subnets"]} | {d["intercept_ms"]:.0f} ± {d["intercept_ms_se"]:.0f} | '
            f'{d["slope_ms_per_rank"]:.0f} ± {d["slope_ms_per_rank_se"]:.0f} | {d["r"]:.2f} | '
            f'{d["preset_round_ms"]:.1f} | {d["preset_slope_ms_per_rank"]:.0f} |'
        )
    out += [
        "",
        "### A dead node, within a subnet: days with one against days without",
        "",
        "| kind | subnets with both | dead-node days | change of mean finalized rank | change of block time (ms)"
        " | ictwin one node down: change of rank | change of round time (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in dead:
        out.append(
            f'| {d["label"]} | {d["subnets_with_both"]} | {d["dead_node_days"]} | {d["delta_rank"]:+.4f} | '
            f'{d["delta_block_ms"]:+.0f} | {d["preset_delta_rank"]:+.4f} | {d["preset_delta_round_ms"]:+.0f} |'
        )
    out += [
        "",
        "### Every preset and what-if",
        "",
        "| preset | nodes | U (ms) | N0 (ms) | crashed | round overhead (ms) | network | replica-rounds"
        " | block rate (± 95% CI, blocks/s) | mean round (ms) | mean notarized rank | rank-0 ratio | finalized ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in pred:
        out.append(
            f'| `{p["preset"]}` | {p["nodes"]} | {p["unit_delay_ms"]:.0f} | {p["initial_notary_delay_ms"]:.0f} | '
            f'{p["crashed"]} | {p["round_overhead_ms"]:.0f} | {p["network"]} | {p["replica_rounds"]} | '
            f'{p["block_rate_per_s"]:.3f} ± {p["block_rate_per_s_ci95"]:.4f} | {p["mean_round_ms"]:.1f} | '
            f'{p["mean_notarized_rank"]:.4f} | {p["rank0_ratio"]:.4f} | {p["finalized_ratio"]:.4f} |'
        )
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="directory of the real-network CSVs")
    ap.add_argument("--results", type=Path, required=True, help="results/real-ic directory")
    a = ap.parse_args()
    obs = observed(a.data)
    pred = predicted(a.results)
    if not pred:
        sys.exit(f"summarize.py: no <preset>/summary.csv under {a.results} (run experiments/real-ic/run.sh)")
    write_csv(a.results / "observed.csv", obs)
    write_csv(a.results / "predicted.csv", pred)
    dec = decomposition(a.data, pred)
    write_csv(a.results / "decomposition.csv", dec)
    dead = dead_node_effect(a.data, pred)
    write_csv(a.results / "dead_node.csv", dead)
    (a.results / "comparison.md").write_text(markdown(obs, pred, dec, dead))


if __name__ == "__main__":
    main()
