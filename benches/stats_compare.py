"""pingouin side of benches/stats_compare.sh: the ICC workload of `accord analyze` on one table.

For every ROI: cell means (subject x site, mean over sessions), then
pingouin.intraclass_corr(targets=subject, raters=site, nan_policy="omit") -- the between-site
ICC -- and, for every site, intraclass_corr with sessions as raters (test-retest). That is the
ICC part of what Accord computes; Accord additionally computes CoVs, wSD/RC, reproducibility,
Bland-Altman for every site pair, the pooled block and writes JSON, so the comparison favours
pingouin. Prints one line: seconds for the whole pass (CSV read included).
"""
import sys
import time
import warnings

import pandas as pd
import pingouin as pg

warnings.simplefilter("ignore")
pg.options["round.column.CI95"] = None


def run(path):
    t0 = time.perf_counter()
    df = pd.read_csv(path, dtype={"subject": str, "site": str, "roi": str})
    n_icc = 0
    for _roi, d in df.groupby("roi", sort=False):
        cells = d.groupby(["subject", "site"], as_index=False)["value"].mean()
        pg.intraclass_corr(cells, targets="subject", raters="site", ratings="value", nan_policy="omit")
        n_icc += 1
        for _site, s in d.groupby("site"):
            if s["session"].nunique() >= 2:
                pg.intraclass_corr(s, targets="subject", raters="session", ratings="value", nan_policy="omit")
                n_icc += 1
    return time.perf_counter() - t0, n_icc


if __name__ == "__main__":
    seconds, n = run(sys.argv[1])
    print(f"{seconds:.6f} {n}")
