"""``python -m bench.import_run SOURCE_URL``: import a WHMCS book into DATABASE_URL and print
one JSON line: seconds, peak RSS (MB) of this process alone, and the report's counts."""

from __future__ import annotations

import json
import resource
import sys
import time


def main(url: str) -> int:
    from core import imports

    started = time.perf_counter()
    report = imports.run("whmcs", source=url)
    seconds = round(time.perf_counter() - started, 1)
    peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
    out = report.as_json()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak,
                "created": out["created"],
                "problems": len(out["problems"]),
                "balance_mismatches": out["balance_mismatches"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
