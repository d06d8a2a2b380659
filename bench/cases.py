"""bench.cases: issue 11's three targets in one command.

- "open a case with 200 timeline entries to painted", p95 <= 50 ms (bench.case_paint);
- "My work" for an agent at 1,000,000 customers on PostgreSQL, p95 <= 50 ms
  (bench.my_work, against the same SQL through psycopg in one rolled-back transaction);
- the SLA due-time computation, p95 <= 50 µs per case (bench.sla_timing, against
  wall-time arithmetic and the minute-by-minute walk).

Each part runs in its own process (the case paint needs a Qt application; the others
must not pay for one) and prints its JSON lines; this command passes them through.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.cases \\
        --db postgresql://postgres@127.0.0.1:5432/rapport_bench1m --size 1000000 --json
"""

from __future__ import annotations

import subprocess
import sys

from bench.common import parser


def main() -> None:
    p = parser(__doc__.splitlines()[0] if __doc__ else "bench.cases")
    p.add_argument("--runs", type=int, default=200, help="My work calls per round")
    args = p.parse_args()
    json_flag = ["--json"] if args.json else []
    parts = [
        ["bench.sla_timing", *json_flag],
        ["bench.my_work", "--db", args.db, "--customers", str(args.size), "--runs",
         str(args.runs), *json_flag],
        ["bench.case_paint", "--db", args.db, "--size", str(args.size), *json_flag],
    ]  # fmt: skip
    failed = 0
    for part in parts:
        done = subprocess.run([sys.executable, "-m", *part], check=False)
        failed += done.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
