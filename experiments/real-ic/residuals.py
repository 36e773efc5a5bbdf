#!/usr/bin/env python3
"""What the per-subnet prediction leaves unexplained (Python 3 stdlib only).

Reads the 30-day mainnet export (--data: subnets.csv) and the prediction of `ictwin ic ...
--out DIR` (--prediction: DIR/subnets.csv) and writes --out (Markdown): for the 13-node subnets
whose observed mean finalized rank (failed / proposed) is below 0.02 and whose rate is above
1 block/s (the two steady 0.66 blocks/s subnets are a configuration, not part of the spread):

- the spread of the observed median daily block rate and of log(observed / predicted);
- the Spearman rank correlation of predicted and observed rates;
- the split by subnet age: subnets in the 2023 subnet list of the export (`subnet_number_2023`
  set) against the ones created later, with the Welch t statistic of the difference of the
  mean observed rates and the share of the variance of log(rate) the two group means explain
  (an age split is a proxy of load: older subnets host more canisters; the export has no load);
- how many would be within 5% of a predictor that knew each group's mean exactly (the most an
  age-blind model of the same group could reach is the overall figure).

Output is deterministic: same inputs, same bytes.
"""

import argparse
import csv
import math
import statistics


def ranks(values):
    """Average ranks (1-based) of `values`, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="real-IC export directory (subnets.csv)")
    ap.add_argument("--prediction", required=True, help="ictwin ic output directory (subnets.csv)")
    ap.add_argument("--out", required=True, help="Markdown file to write")
    a = ap.parse_args()
    with open(f"{a.data}/subnets.csv", newline="") as f:
        observed = list(csv.DictReader(f))
    with open(f"{a.prediction}/subnets.csv", newline="") as f:
        predicted = {r["subnet_short"]: r for r in csv.DictReader(f)}
    rows = [
        r
        for r in observed
        if r["nominal_size"] == "13"
        and float(r["failed_per_proposed"]) < 0.02
        and float(r["block_rate_median_per_s"]) > 1.0
        and r["subnet_short"] in predicted
    ]
    if len(rows) < 4:
        raise SystemExit(f"residuals.py: only {len(rows)} low-rank 13-node subnets: nothing to say")
    obs = [float(r["block_rate_median_per_s"]) for r in rows]
    pred = [float(predicted[r["subnet_short"]]["predicted_block_rate_per_s"]) for r in rows]
    old = [r["subnet_number_2023"] != "" for r in rows]
    log_obs = [math.log(x) for x in obs]
    resid = [math.log(o / p) for o, p in zip(obs, pred)]
    spearman = statistics.correlation(ranks(pred), ranks(obs))
    groups = {True: [x for x, g in zip(obs, old) if g], False: [x for x, g in zip(obs, old) if not g]}
    mean_log = {g: statistics.mean([math.log(x) for x in v]) for g, v in groups.items()}
    sst = sum((y - statistics.mean(log_obs)) ** 2 for y in log_obs)
    sse = sum((y - mean_log[g]) ** 2 for y, g in zip(log_obs, old))
    o, n = groups[True], groups[False]
    se = math.sqrt(statistics.variance(o) / len(o) + statistics.variance(n) / len(n))
    t = (statistics.mean(n) - statistics.mean(o)) / se
    within_group = sum(abs(math.exp(y - mean_log[g]) - 1) <= 0.05 for y, g in zip(log_obs, old))
    within_all = sum(abs(math.exp(y - statistics.mean(log_obs)) - 1) <= 0.05 for y in log_obs)
    within_pred = sum(abs(p / x - 1) <= 0.05 for p, x in zip(pred, obs))
    pred_g = {g: statistics.mean([p for p, h in zip(pred, old) if h == g]) for g in (True, False)}
    err_g = {g: statistics.median([p / x - 1 for p, x, h in zip(pred, obs, old) if h == g]) for g in (True, False)}
    lines = [
        "# What the per-subnet prediction leaves unexplained",
        "",
        "`python3 experiments/real-ic/residuals.py --data DATA --prediction results/real-ic/prediction "
        "--out results/real-ic/prediction/residuals.md`; 13-node subnets with observed mean rank "
        f"below 0.02 and more than 1 block/s: {len(rows)} (fit and held-out halves together).",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| observed median rate: min / mean / max (blocks/s) | {min(obs):.3f} / {statistics.mean(obs):.3f} / {max(obs):.3f} |",
        f"| sd of log(observed) | {statistics.pstdev(log_obs):.3f} |",
        f"| sd of log(observed / predicted) | {statistics.pstdev(resid):.3f} |",
        f"| Spearman(predicted, observed) | {spearman:.3f} |",
        f"| within 5%: the prediction | {within_pred} of {len(rows)} |",
        f"| within 5%: the overall mean, age-blind | {within_all} of {len(rows)} |",
        f"| in the 2023 list: subnets, observed mean, predicted mean, median error | {len(o)}, {statistics.mean(o):.3f}, {pred_g[True]:.3f}, {err_g[True]:+.3f} |",
        f"| created later: subnets, observed mean, predicted mean, median error | {len(n)}, {statistics.mean(n):.3f}, {pred_g[False]:.3f}, {err_g[False]:+.3f} |",
        f"| later - 2023 list (blocks/s), Welch t | {statistics.mean(n) - statistics.mean(o):+.3f}, t = {t:.2f} |",
        f"| share of the variance of log(rate) the age groups explain | {1 - sse / sst:.2f} |",
        f"| within 5%: each age group's exact mean | {within_group} of {len(rows)} |",
        "",
    ]
    with open(a.out, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
