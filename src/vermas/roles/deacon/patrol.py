"""One deacon patrol: heartbeat, supervised daemons, convoys, escalations.

1. write ``<town>/deacon/heartbeat.json`` (boot restarts a deacon whose heartbeat goes stale);
2. every wanted witness, refinery and boot that is not running is restarted, with
   exponential backoff; a crash loop stops the restarts and is escalated to the mayor;
3. complete convoys are landed (``convoys.check_all``: the refinery lands them as it closes
   beads; this catches beads closed by hand or by another rig);
4. ``ESCALATION``/``HELP`` mail addressed to the deacon goes up to the mayor as an escalation
   bead (mailed from medium up), and is marked read;
5. the heartbeat again, with the patrol's duration; state and totals to ``state.json``.
"""

from __future__ import annotations

import os
import time

from vermas.errors import VermasError
from vermas.ledger import timefmt
from vermas.roles.deacon.settings import DeaconHome, DeaconSettings, read_json, write_heartbeat, write_json
from vermas.roles.deacon.supervise import supervise
from vermas.roles.deacon.targets import all_targets
from vermas.roles.deacon.tracker import new_entry
from vermas.town import work
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

ACTOR = "deacon"
TOTALS = ("patrols", "restarted", "restart_failed", "crash_loops", "convoys_landed", "escalations_forwarded",
          "errors")


class Deacon:
    def __init__(self, town: Town, *, environ: dict | None = None, log: Callable[[str], None] | None = None) -> None:
        self.town = town
        self.home = DeaconHome(town)
        self.environ = dict(os.environ) if environ is None else environ
        self.log = log or (lambda _line: None)
        os.makedirs(self.home.dir, exist_ok=True)

    def settings(self) -> DeaconSettings:
        return DeaconSettings.load(self.town, self.environ)

    def patrol(self, settings: DeaconSettings | None = None) -> dict:
        """One patrol (under the state lock, so ``clear-backoff`` never races it); returns its report."""
        from vermas.fileops import FileLock

        settings = settings or self.settings()
        with FileLock(self.home.state_path + ".lock", timeout=300.0):
            return self._patrol(settings)

    def _patrol(self, settings: DeaconSettings) -> dict:
        started = time.perf_counter()
        doc = read_json(self.home.state_path)
        targets = doc.setdefault("targets", {})
        totals = doc.setdefault("totals", {})
        for key in TOTALS:
            totals.setdefault(key, 0)
        patrols = int(totals["patrols"]) + 1
        write_heartbeat(self.home, patrols=patrols, last_patrol_ms=None, interval=settings.patrol_interval)
        report: dict = {"at": timefmt.now_str(), "actions": [], "convoys_landed": [], "escalations": [],
                        "errors": []}
        for target in all_targets(self.town, self.environ):
            entry = targets.setdefault(target.key, new_entry())
            try:
                result = supervise(target, entry, base=settings.backoff_base, town_root=self.town.root,
                                   actor=ACTOR, log=self.log, patrol=patrols)
            except VermasError as exc:
                report["errors"].append(f"{target.key}: {exc.message}")
                continue
            if result is None:
                continue
            report["actions"].append(result)
            action = result["action"]
            if action in ("restarted", "restart_failed"):
                totals[action] += 1
            elif action == "crash_loop":
                totals["crash_loops"] += 1
        try:
            from vermas.town import convoys

            report["convoys_landed"] = convoys.check_all(self.town.root, actor=ACTOR)
            totals["convoys_landed"] += len(report["convoys_landed"])
            for convoy_id in report["convoys_landed"]:
                self.log(f"landed convoy {convoy_id}")
        except VermasError as exc:
            report["errors"].append(f"convoys: {exc.message}")
        try:
            report["escalations"] = self._forward_escalations()
            totals["escalations_forwarded"] += len(report["escalations"])
        except VermasError as exc:
            report["errors"].append(f"mail: {exc.message}")
        for error in report["errors"]:
            self.log(f"error: {error}")
        totals["errors"] += len(report["errors"])
        totals["patrols"] = patrols
        report["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        doc["last_patrol"] = report
        write_json(self.home.state_path, doc)
        write_heartbeat(self.home, patrols=patrols, last_patrol_ms=report["duration_ms"],
                        interval=settings.patrol_interval)
        return report

    def _forward_escalations(self) -> list[str]:
        """``ESCALATION``/``HELP`` mail to the deacon → an escalation bead for the mayor."""
        from vermas.town import escalations, mail, protocol
        from vermas.town.identity import Agent

        me = Agent("deacon")
        forwarded: list[str] = []
        read: list[str] = []
        with mail.town_ledger(self.town.root) as ledger:
            messages = mail.protocol_messages(self.town.root, "ESCALATION", to=me, ledger=ledger) + \
                mail.protocol_messages(self.town.root, "HELP", to=me, ledger=ledger)
        for message, record in messages:
            if isinstance(record, protocol.Escalation):
                severity = record.severity.lower() if record.severity.lower() in escalations.SEVERITIES else "medium"
                summary = record.summary or message["subject"]
                related = record.issue
            else:
                severity, summary, related = "medium", f"HELP: {getattr(record, 'summary', '')}", \
                    getattr(record, "issue", "")
            bead = escalations.escalate(self.town.root, ACTOR, f"{summary} (from {message['from']})",
                                        severity=severity, body=message.get("body", ""), source=message["from"],
                                        related=related)
            forwarded.append(bead["id"])
            read.append(message["id"])
            work.emit(self.town.beads_dir, "deacon.escalated", ACTOR, {"message_id": message["id"],
                                                                      "escalation": bead["id"],
                                                                      "severity": severity})
        if read:
            mail.mark_read(self.town.root, read, ACTOR)
        return forwarded
