"""`vanguard eval`: answer accuracy of the NL pipeline on a fixed question set, end to end.

Each question goes to the real service (HTTP, SSE) with the configured LLM provider; its rows are
compared with the gold statement's rows on the demo data (see docs/eval.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Callable

from nlq.config import Settings

DEFAULT_USER = "planner"


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be a share between 0 and 1 (0.85 for 85%)")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="set_path",
                        help="question set: a TOML file, or the name of a shipped one (heldout, third, fourth, fifth, "
                             "sixth, seventh, eighth, ninth, tenth, eleventh, twelfth, thirteenth, fourteenth, fifteenth, sixteenth; default: the main set shipped with vanguard)")
    parser.add_argument("--level", choices=["plain", "hard", "all"], default="all", help="questions to ask (default all)")
    parser.add_argument("--sample", type=_positive, help="ask only this many questions, drawn at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    parser.add_argument("--org", help="demo organization to ask about (default: the first, HOLNG)")
    parser.add_argument("--user", default=DEFAULT_USER, help=f"demo user who asks (default {DEFAULT_USER})")
    parser.add_argument("--json", dest="json_path", help="also write everything as JSON to this file")
    parser.add_argument("--min-right-plain", type=_share, default=0.85, help="plain questions right, at least (default 0.85)")
    parser.add_argument("--min-right-hard", type=_share, default=0.50, help="hard questions right, at least (default 0.50)")
    parser.add_argument("--max-wrong", type=_share, default=0.03,
                        help="wrong answers and errors on each level, at most (default 0.03)")


def run_eval(settings: Settings, args: argparse.Namespace,
             database: Callable[[], contextlib.AbstractContextManager] | None = None) -> int:
    """Exit status: 0 when every threshold is met, 1 when one is missed, 2 for bad arguments or a bad set."""
    from nlq.eval.demo import demo_organizations, demo_password
    from nlq.eval.questions import SETS, QuestionSetError, load_questions, select_questions, set_path

    org = args.org or demo_organizations()[0]
    if org not in demo_organizations():
        return _bad(f"--org {org}: the demo organizations are {', '.join(demo_organizations())}")
    password = demo_password(args.user, org)
    if password is None:
        return _bad(f"--user {args.user}: not a demo user who can ask in {org} (planner, admin; viewer in the first)")
    try:
        chosen = set_path(args.set_path) if args.set_path in SETS else args.set_path
        questions = select_questions(load_questions(chosen), level=args.level, sample=args.sample,
                                     seed=args.seed)
    except QuestionSetError as exc:
        return _bad(exc.message)
    if not questions:
        return _bad(f"the set has no {args.level} questions")
    # The service's modules load only once the arguments are known to be good (a quick exit 2).
    from nlq.eval.report import check_thresholds, print_report, result_record, summarize
    from nlq.eval.run import InvalidGold, evaluate, open_service
    from nlq.progress import enabled as progress_enabled

    options = {"database": database} if database else {}
    print("building the demo data and starting the service ...", file=sys.stderr, flush=True)
    with open_service(settings, org, args.user, **options) as service:
        try:
            results = asyncio.run(evaluate(service, questions, password, settings, progress=progress_enabled()))
        except InvalidGold as exc:
            return _bad(exc.message)
    summary = summarize(results)
    checks = check_thresholds(summary, min_right_plain=args.min_right_plain, min_right_hard=args.min_right_hard,
                              max_wrong=args.max_wrong)
    levels = ", ".join(f"{summary['levels'][lv]['questions']} {lv}" for lv in ("plain", "hard")
                       if summary["levels"][lv]["questions"])
    model = f" ({service.model})" if service.model else ""
    header = (f"vanguard eval: {len(results)} questions ({levels}), provider {service.provider}{model}, "
              f"organization {org} as {args.user}")
    print_report(header, results, summary, checks)
    status = 0 if all(c.passed for c in checks) else 1
    if args.json_path:
        arguments = {k: v for k, v in vars(args).items() if k != "handler"}
        with open(args.json_path, "w", encoding="utf-8") as out:
            json.dump({"provider": service.provider, "model": service.model, "organization": org, "user": args.user,
                       "arguments": arguments, "summary": summary,
                       "thresholds": [c.__dict__ for c in checks], "exit_status": status,
                       "results": [result_record(r) for r in results]}, out, indent=2, default=str)
    return status


def _bad(message: str) -> int:
    print(f"vanguard eval: {message}", file=sys.stderr)
    return 2
