"""What the deacon supervises: every rig's witness and refinery, and boot (which watches the deacon).

A target is supervised only while it is *wanted* (``vermas up`` or its own ``start`` wrote its
``.want`` marker; its ``stop`` removed it): a daemon a human stopped stays stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from vermas.roles.daemonkit import DaemonHome
from vermas.town.layout import Town

START_WAIT = 60.0  # how long a restarted daemon may take to hold its lock (a loaded machine is slow, not broken)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class Target:
    key: str                      # "app/witness", "app/refinery", "boot"
    label: str
    home: DaemonHome
    start: Callable[[], dict]     # starts it (idempotent); raises VermasError when it does not come up


def rig_targets(town: Town, rig: str, environ: dict[str, str]) -> list[Target]:
    from vermas.roles.refinery import daemon as refinery_daemon
    from vermas.roles.refinery.settings import RefineryHome
    from vermas.roles.witness import daemon as witness_daemon
    from vermas.roles.witness.settings import WitnessHome

    witness = WitnessHome(town, rig)
    refinery = refinery_daemon.daemon_home(RefineryHome(town, rig))
    return [
        Target(f"{rig}/witness", witness.daemon.label, witness.daemon,
               lambda: witness_daemon.start(town, rig, environ=environ, by="deacon", wait=START_WAIT)),
        Target(f"{rig}/refinery", refinery.label, refinery,
               lambda: refinery_daemon.start(town, rig, environ=environ, by="deacon", wait=START_WAIT)),
    ]


def boot_target(town: Town, environ: dict[str, str]) -> Target:
    from vermas.roles import boot
    from vermas.roles.deacon.settings import BootHome

    home = BootHome(town)
    return Target("boot", home.daemon.label, home.daemon,
                  lambda: boot.start(town, environ=environ, by="deacon", wait=START_WAIT))


def all_targets(town: Town, environ: dict[str, str]) -> list[Target]:
    from vermas.town import rigs

    out: list[Target] = []
    for rig in rigs.rig_names(town):
        out.extend(rig_targets(town, rig, environ))
    out.append(boot_target(town, environ))
    return out
