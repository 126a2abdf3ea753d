"""``vermas eval``: evaluation metrics computed from the ledgers (verification accuracy)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

EPILOG = """\
verify-accuracy: agreement of the Inspector's verdicts with the labels humans gave them
('vermas inspect label <bead> correct|incorrect'). False positive rate = FAIL verdicts
labelled incorrect / labelled FAILs (target < 10%); false negative rate = PASS verdicts
labelled incorrect / labelled PASSes (target < 20%). Human rulings are not counted.

examples:
  vermas eval verify-accuracy
  vermas eval verify-accuracy --rig app --json
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Evaluation metrics of the system, computed from the ledgers."
    parser.epilog = EPILOG
    subs = parser.add_subparsers(dest="metric", title="metrics")
    p = subs.add_parser("verify-accuracy", help="agreement of Inspector verdicts with human labels",
                        description="How often the Inspector's verdicts agree with the human labels on them.")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_accuracy)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _accuracy(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli import context
    from vermas.town.layout import Town
    from vermas.verify import accuracy

    town = Town(context.require_town(env))
    if args.rig:
        from vermas.town.rigs import rig_info

        rig_info(town, args.rig)
    data = accuracy.compute(accuracy.verdict_rows(town, args.rig))
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"verdicts: {data['verdicts']}  labelled: {data['labelled']}  unlabelled: {data['unlabelled']}  "
              f"human rulings: {data['human_rulings']}")
    env.write(f"accuracy: {_pct(data['accuracy'])} ({data['correct']}/{data['labelled']})")
    env.write(f"false positive rate (good work failed): {_pct(data['false_positive_rate'])}  (target < 10%)")
    env.write(f"false negative rate (bad work passed):  {_pct(data['false_negative_rate'])}  (target < 20%)")
    env.write(f"verdicts with reasoning: {_pct(data['with_reasoning'])}  (target 100%)")
    for verdict, row in data["by_verdict"].items():
        env.write(f"  {verdict:<11} {row['verdicts']:>4} verdicts  {row['labelled']:>4} labelled  "
                  f"agreement {_pct(row['agreement'])}")
    if not data["labelled"]:
        env.write("no labels yet: vermas inspect label <bead> correct|incorrect")
    return 0
