"""`sms-tips content ...`: check the tip library, load it, export it, preview, count, and who gets
what."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from content.checker import CheckReport, check_library, default_catalogs
from content.coverage import enrollment_starts, simulate
from content.framing import RulesError
from content.library import DEFAULT_ROOT, LANGUAGES, Library, load_library
from content.render import render_tip
from content.segments import analyze
from content.sequence import journey
from content.stats import library_stats, name_costs
from sms_service.cli.common import CommandError, Subparsers, connect, load_settings
from sms_service.core.db import build_sessionmaker, read_transaction, transaction
from sms_service.tips.export import export_tips
from sms_service.tips.sync import SyncRefused, sync_library

AGE = re.compile(r"^(-?\d+)\s*([wmy])$")
WEEKS_PER = {"w": 1.0, "m": 365.25 / 12 / 7, "y": 365.25 / 7}


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "content",
        help="the tip library",
        description="Check the tip library, load it into the database, preview it, count it.",
    )
    commands = parser.add_subparsers(dest="content_command", metavar="ACTION", required=True)
    root = argparse.ArgumentParser(add_help=False)
    root.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help="the content folder (default: %(default)s)"
    )
    check = commands.add_parser(
        "check",
        parents=[root],
        help="run every rule on every tip and system message",
        description=(
            "Check every tip and the system message catalogs: segments and encoding, asset "
            "framing, reading level, placeholders, ids, themes, age ranges, near-duplicates and "
            "coverage. Prints one line per finding, then a summary; exits 1 on any error."
        ),
    )
    check.add_argument("--no-catalogs", action="store_true", help="skip content/messages/*.yaml")
    check.set_defaults(handler=_check)
    load = commands.add_parser(
        "load",
        parents=[root],
        help="sync the tip files into the database (DATABASE_URL)",
        description=(
            "Sync the tip files into the database: new tips are added, changed tips get a new "
            "version, tips gone from the files are retired (kept). Running it twice is harmless. "
            "The database is the truth once loaded: when staff changed a tip in the admin and "
            "the files say otherwise, nothing is loaded (export and review first) unless --force."
        ),
    )
    load.add_argument(
        "--force",
        action="store_true",
        help="let the files overwrite (or retire) tips staff changed in the admin",
    )
    load.set_defaults(handler=_load)
    export = commands.add_parser(
        "export",
        parents=[root],
        help="write the database's tips back as tip files, for review",
        description=(
            "Write the live tips of the database (DATABASE_URL) as tip files under OUT/tips/, "
            "with the other files of the content folder (--root) copied beside them, so "
            "`content check --root OUT` checks them and `content load --root OUT` changes "
            "nothing. Each tip goes to the file it came from; retired tips are left out."
        ),
    )
    export.add_argument(
        "--out",
        type=Path,
        default=Path("content-export"),
        help="the folder to write (default: %(default)s; its tips/ files are replaced)",
    )
    export.set_defaults(handler=_export)
    preview = commands.add_parser(
        "preview",
        parents=[root],
        help="the next tips a caregiver would get",
        description="Print the next tips a caregiver would get, with their segment counts.",
    )
    preview.add_argument(
        "--age",
        required=True,
        help="the child's age: 10w, 8m, 2y; -6w = 6 weeks before the due date",
    )
    preview.add_argument("--lang", choices=LANGUAGES, default="en", help="the caregiver's language")
    preview.add_argument("--name", default=None, help="the child's first name (default: none)")
    preview.add_argument("--weeks", type=int, default=4, help="how many weeks to show (default 4)")
    preview.set_defaults(handler=_preview)
    stats = commands.add_parser(
        "stats",
        parents=[root],
        help="coverage per age band, language and theme",
        description="Show how many tips each age band has, by language and theme.",
    )
    stats.set_defaults(handler=_stats)
    delivery = commands.add_parser(
        "delivery",
        parents=[root],
        help="for each tip, the share of enrollment weeks that receive it",
        description=(
            "Simulate a child enrolled at every week from the furthest accepted due date to "
            "36 months through the selection rule, and print, for each tip, the share of "
            "enrollment weeks that receive it (fewest first). `content check` fails a tip "
            "that none receives."
        ),
    )
    delivery.add_argument("--lang", choices=LANGUAGES, default=None, help="one language only")
    delivery.set_defaults(handler=_delivery)


def _library(root: Path) -> Library:
    if not (root / "themes.yaml").exists() and not (root / "tips").is_dir():
        raise CommandError(f"{root} is not a content folder (no themes.yaml, no tips/)")
    return load_library(root)


def _check(args: argparse.Namespace) -> int:
    library = _library(args.root)
    catalogs = None if args.no_catalogs else default_catalogs()
    report = _checked(library, catalogs)
    for finding in report.findings:
        print(finding.line())
    if report.reviewed:
        print(f"\n{len(report.reviewed)} reviewed safety exception(s), allowed:")
        for finding in report.reviewed:
            print(f"  {finding.file}: {finding.item_id}: {finding.message}")
    print()
    print(summary_table(report))
    errors, warnings = len(report.errors), len(report.findings) - len(report.errors)
    verdict = "passed" if report.ok else "FAILED"
    print(f"\ncontent check {verdict}: {errors} error(s), {warnings} warning(s)")
    return 0 if report.ok else 1


def _checked(library: Library, catalogs: dict[str, Path] | None) -> CheckReport:
    try:
        return check_library(library, catalogs=catalogs)
    except RulesError as error:
        raise CommandError(f"the framing or safety rules cannot be used: {error}") from None


def summary_table(report: CheckReport) -> str:
    """The per-language table printed after the findings (and copied into the README)."""
    lines = [
        "| language | tips | errors | warnings | GSM-7 / UCS-2 tips | segments per tip, worst case "
        "| 156-week journey, worst case | 156-week journey, typical |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for summary in report.summaries.values():
        lines.append(
            f"| {summary.language} | {summary.tips} | {summary.errors} | {summary.warnings} "
            f"| {summary.gsm} / {summary.ucs2} | {summary.average_segments:.2f} "
            f"| {summary.journey_segments} | {summary.typical_journey_segments} |"
        )
    lines.append(
        "(segments; worst case: a 24-character program name and a 20-character child name; "
        'typical: "Little Moments" and no name. The journey is a child enrolled at birth, '
        "one tip a week, weeks 0 to 155.)"
    )
    for summary in report.summaries.values():
        if summary.ucs2_chars:
            chars = ", ".join(
                f"{char!r} ({count})" for char, count in summary.ucs2_chars.most_common()
            )
            lines.append(f"{summary.language}: characters forcing UCS-2 (tips): {chars}")
    for catalog, count in report.catalogs.items():
        lines.append(f"{catalog}: {count} system messages checked")
    return "\n".join(lines)


def _load(args: argparse.Namespace) -> int:
    library = _library(args.root)
    report = _checked(library, None)
    if not report.ok:
        raise CommandError(
            f"the library has {len(report.errors)} error(s); `sms-tips content check` lists them"
        )
    settings = load_settings()
    engine = connect(settings, migrate=True)
    try:
        with transaction(build_sessionmaker(engine)) as session:
            result = sync_library(session, library, force=args.force)
    except SyncRefused as error:
        raise CommandError(str(error)) from None
    finally:
        engine.dispose()
    print(
        f"tips: {len(result.created)} new, {len(result.updated)} new versions, "
        f"{len(result.restored)} restored, {len(result.retired)} retired, "
        f"{result.unchanged} unchanged"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = connect(settings)
    try:
        with read_transaction(build_sessionmaker(engine)) as session:
            written = export_tips(session, out=args.out, root=args.root)
    finally:
        engine.dispose()
    print(f"wrote {len(written)} tip file(s) under {args.out / 'tips'}")
    print(f"review them, then: sms-tips content check --root {args.out}")
    return 0


def parse_age(text: str) -> int:
    """Weeks of age from 10w, 8m, 2y or -6w (negative: before the due date)."""
    match = AGE.match(text.strip().lower())
    if match is None:
        raise CommandError(f"age {text!r}: write it like 10w, 8m, 2y or -6w")
    weeks = int(int(match.group(1)) * WEEKS_PER[match.group(2)])
    if weeks > 155:
        raise CommandError(f"age {text!r} is {weeks} weeks: tips stop at 36 months (week 156)")
    return weeks


def _preview(args: argparse.Namespace) -> int:
    age = parse_age(args.age)
    library = _library(args.root)
    program_name = load_settings().program_name
    tips = library.tips.get(args.lang, [])
    end = min(age + max(args.weeks, 1), 156)
    for week, tip in journey(tips, start_week=age, end_week=end):
        if tip is None:
            print(f"week {week}: NO TIP (a coverage gap: run `sms-tips content check`)\n")
            continue
        body = render_tip(
            tip.text,
            language=args.lang,
            child_name=args.name,
            age_weeks=week,
            program_name=program_name,
        )
        info = analyze(body)
        print(
            f"week {week}: {tip.id} ({tip.theme}, weeks {tip.min_week}..{tip.max_week}) "
            f"{info.segments} segment(s), {info.encoding}, {info.units} units"
        )
        print(f"  {body}\n")
    return 0


def _stats(args: argparse.Namespace) -> int:
    library = _library(args.root)
    themes = list(library.themes)
    for language, bands in library_stats(library).items():
        print(f"{language}: {len(library.tips.get(language, []))} tips")
        header = ["age band", "tips", *themes, "weeks with a tip", "gap weeks"]
        rows = [header]
        for band in bands:
            rows.append(
                [
                    band.label,
                    str(band.tips),
                    *(str(band.themes[theme]) for theme in themes),
                    f"{band.journey_tips}/{band.journey_weeks}",
                    str(band.gap_weeks),
                ]
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
        for row in rows:
            print(
                "  " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
            )
        print()
    program_name = load_settings().program_name
    for cost in name_costs(library, program_name=program_name):
        print(cost.describe())
    return 0


def _delivery(args: argparse.Namespace) -> int:
    library = _library(args.root)
    starts = enrollment_starts()
    for language in [args.lang] if args.lang else list(LANGUAGES):
        tips = library.tips.get(language, [])
        delivery = simulate(tips)
        never = sum(delivery.received[tip.id] == 0 for tip in tips)
        print(
            f"{language}: {len(tips)} tips, {len(starts)} enrollment weeks "
            f"({starts[0]}..{starts[-1]}); {never} tip(s) no enrollment week receives"
        )
        for tip in sorted(tips, key=lambda tip: (delivery.share(tip), tip.min_week, tip.id)):
            print(
                f"  {delivery.share(tip):6.1%}  {tip.id}  weeks {tip.min_week}..{tip.max_week}"
                f"  ({delivery.received[tip.id]} of {len(starts)})"
            )
    return 0
