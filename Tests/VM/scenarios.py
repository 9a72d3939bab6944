#!/usr/bin/env python3
"""The VM test's scenarios (docs/vm-test.md). Each runs on its own copy of the prepared guest
disk: A holds 1.0.0 (good, first), B is empty, the boot state is in a grubenv that stock GRUB
reads. Every boot is a fresh QEMU process; every assertion is on what the guest's own updatectl
and systemd say, on its journal, or on the disk after power-off."""

import argparse
import os
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import BOOT_SECONDS, Machine, ScenarioFailed, expect, note  # noqa: E402

GRUBENV = "/boot/efi/tandem/grubenv"


class Run:
    def __init__(self, work, updatectl):
        self.work = work
        self.updatectl = updatectl
        self.images = os.path.join(work, "images")

    def machine(self, name, bundles="bundles.img"):
        return Machine(self.work, name, bundles, self.updatectl)

    def image(self, version):
        return os.path.join(self.images, f"v{version}.img")


def slot(status, name):
    return next(entry for entry in status["slots"] if entry["name"] == name)


def systemd_show(boot, unit, *properties):
    output = boot.check(f"systemctl show {unit} " + " ".join(f"-p {name}" for name in properties))
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def booted(boot, slot_name, version):
    status = boot.status()
    expect(status.get("bootedSlot") == slot_name and status.get("bootedVersion") == version,
           f"boot {boot.label}: {version} runs from slot {slot_name} "
           f"(status: slot {status.get('bootedSlot')}, version {status.get('bootedVersion')})")
    return status


def next_boot_verifies(run, machine, versions):
    """After power-off: the slot the bootloader picks next holds, byte for byte, the image of the
    version it is expected to hold, and its kernel is on the ESP."""
    state = machine.boot_state()
    expect(not state["backendProblems"], f"the grubenv is sound ({state['backendProblems']})")
    chosen = state.get("nextBoot")
    expect(chosen in versions, f"the bootloader's next slot is {chosen}, one of {sorted(versions)}")
    expect(machine.slot_holds(chosen, run.image(versions[chosen])),
           f"slot {chosen} holds exactly the signed image of {versions[chosen]}")
    return chosen, state


def install(boot, version, extra=""):
    output = boot.check(f"updatectl update {extra} /bundles/v{version}.tandem", timeout=600)
    status = boot.status()
    expect(status.get("rebootPending") is True and status.get("newVersion") == version
           and status.get("nextBootSlot") == "B",
           f"updatectl update installed {version} into B and it boots next")
    return output


def reboot(boot, command="updatectl reboot"):
    """Reboots through tandemd and logind; --force where no update waits for the reboot."""
    status, output = boot.shell(command, timeout=60)
    if status != 0:
        raise ScenarioFailed(f"boot {boot.label}: '{command}' exited {status}: {output.strip()}")
    boot.wait_power_off(f"{command} through logind")


# 1. Healthy update, then 5. rollback and mark-bad from the shell on the same machine.

def healthy_update(run):
    machine = run.machine("healthy-update")
    first = machine.boot_to_shell()
    status = booted(first, "A", "1.0.0")
    expect(status.get("bootBackend") == "grub-env" and status["boot"]["kind"] == "normal",
           "a normal boot, with the grub-env backend")
    service = systemd_show(first, "tandemd.service", "Type", "ActiveState", "WatchdogUSec", "WatchdogTimestampMonotonic")
    expect(service["Type"] == "notify" and service["ActiveState"] == "active",
           "systemd started tandemd.service (Type=notify): READY=1 arrived")
    expect(service["WatchdogUSec"] == "1min", "the unit's WatchdogSec=60s is in force")
    security = first.check("systemd-analyze security tandemd.service --no-pager", timeout=120)
    with open(os.path.join(run.work, "systemd-analyze-security.txt"), "w") as report:
        report.write(security)
    exposure = [line for line in security.splitlines() if "Overall exposure level" in line]
    note(f"systemd-analyze security: {exposure[-1].strip() if exposure else security.strip()[-200:]}")

    output = install(first, "2.0.0")
    expect("%" in output, "updatectl update showed progress")
    # systemd stamps every WATCHDOG=1 it receives: a later stamp than the first one read is a ping
    # that arrived since, and it must come within WatchdogSec of the last.
    first_stamp = int(service["WatchdogTimestampMonotonic"])
    first.wait_until("a WATCHDOG=1 ping", lambda: int(systemd_show(
        first, "tandemd.service", "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"]) > first_stamp, timeout=60)
    expect(systemd_show(first, "tandemd.service", "NRestarts")["NRestarts"] == "0",
           "tandemd pinged the watchdog within WatchdogSec, and was never restarted")
    reboot(first)
    expect("System is rebooting" in machine.journal(), "logind rebooted the machine (its journal says so)")
    next_boot_verifies(run, machine, {"B": "2.0.0"})

    trial = machine.boot_to_shell()
    status = booted(trial, "B", "2.0.0")
    expect(status["boot"]["kind"] in ("trial", "blessed"), f"B boots on trial ({status['boot']['kind']})")
    trial.wait_until("the blessing", lambda: trial.status()["boot"]["kind"] == "blessed", timeout=180, interval=3)
    target = systemd_show(trial, "boot-complete.target", "ActiveState", "ActiveEnterTimestampMonotonic")
    bless = systemd_show(trial, "tandem-bless-boot.service", "ActiveState", "Result", "InactiveExitTimestampMonotonic")
    expect(target["ActiveState"] == "active" and bless["ActiveState"] == "active" and bless["Result"] == "success",
           "boot-complete.target was reached and tandem-bless-boot.service blessed B")
    expect(int(bless["InactiveExitTimestampMonotonic"]) >= int(target["ActiveEnterTimestampMonotonic"]),
           "the blessing started after boot-complete.target")
    reboot(trial, "updatectl reboot --force")
    journal = machine.journal()
    expect("Reached target boot-complete.target" in journal and "Starting tandem-bless-boot.service" in journal,
           "the trial boot's journal shows boot-complete.target reached, then tandem-bless-boot.service")
    _, state = next_boot_verifies(run, machine, {"B": "2.0.0"})
    expect(all(entry["successful"] for entry in state["slots"]), "on disk, the grubenv holds B blessed and A still good")

    after = machine.boot_to_shell()
    status = booted(after, "B", "2.0.0")
    expect(status["boot"]["kind"] == "normal" and slot(status, "B")["successful"] and slot(status, "A")["successful"]
           and status.get("nextBootSlot") == "B",
           "after the next boot: 2.0.0 blessed in B, and A (1.0.0) still good as the fallback")
    return machine, after


def rollback_and_mark_bad(run, machine, boot):
    output = boot.check("updatectl rollback")
    expect("1.0.0" in output and "slot A" in output, f"updatectl rollback: {output.strip()}")
    reboot(boot, "updatectl reboot --force")
    next_boot_verifies(run, machine, {"A": "1.0.0"})

    back = machine.boot_to_shell()
    status = booted(back, "A", "1.0.0")
    expect(status["boot"]["kind"] == "normal", "the rollback is a normal boot, not a fallback")
    install(back, "2.0.0")
    reboot(back)

    trial = machine.boot_to_shell()
    status = booted(trial, "B", "2.0.0")
    expect(status["boot"]["kind"] == "trial", "the reinstalled 2.0.0 boots on trial")
    output = trial.check("updatectl mark-bad booted")
    expect("marked slot B bad" in output, f"updatectl mark-bad booted: {output.strip()}")
    reboot(trial, "updatectl reboot --force")
    next_boot_verifies(run, machine, {"A": "1.0.0"})

    last = machine.boot_to_shell()
    status = booted(last, "A", "1.0.0")
    expect(status["boot"]["kind"] == "fallback" and status["boot"].get("reason") == "marked bad",
           "the next boot is a fallback with the reason 'marked bad'")
    expect(any(entry["version"] == "2.0.0" for entry in status["quarantined"]), "2.0.0 is quarantined")
    last.cut()


# 2. and 3. A trial that never blesses: the bootloader falls back and the version is quarantined.

def assert_fallback(run, machine, version):
    next_boot_verifies(run, machine, {"A": "1.0.0"})
    boot = machine.boot_to_shell()
    status = booted(boot, "A", "1.0.0")
    expect(status["boot"]["kind"] == "fallback" and status["boot"].get("reason") == "tries exhausted",
           f"tandemd reports the fallback from {version}: tries exhausted")
    expect(any(entry["version"] == version and entry["reason"] == "tries exhausted" for entry in status["quarantined"]),
           f"{version} is quarantined")
    return boot, status


def failed_health_check(run):
    machine = run.machine("failed-health-check", "bundles-auto.img")
    first = machine.boot_to_shell()
    booted(first, "A", "1.0.0")

    def installed_on_its_own():
        status = first.status()
        return status.get("rebootPending") is True and status.get("newVersion") == "3.0.0"
    first.wait_until("the automatic install of 3.0.0 from Source=", installed_on_its_own, timeout=600, interval=5)
    note("the scheduled check installed 3.0.0 from /bundles/auto.tandem on its own")
    reboot(first)
    for attempt in (1, 2):
        trial = machine.power_on(f"{machine.boots + 1} (trial {attempt} of 3.0.0)")
        trial.wait_power_off("the failing health check's FailureAction=reboot")
        journal = machine.journal()
        expect("health check: the service this image exists for did not start" in journal,
               f"trial {attempt}: the health check failed")
        expect("Starting tandem-bless-boot.service" not in journal and "Reached target boot-complete.target" not in journal,
               f"trial {attempt}: boot-complete.target was never reached, so nothing blessed the slot")
    boot, status = assert_fallback(run, machine, "3.0.0")
    fell_back_at = status["boot"]["time"]

    def skipped_since_fallback():
        check = boot.status()["updates"].get("lastCheck") or {}
        return check.get("time", 0) >= fell_back_at and check.get("version") == "3.0.0" and check.get("result") == "deferred"
    boot.wait_until("a scheduled check after the fallback that skips 3.0.0", skipped_since_fallback, timeout=150, interval=5)
    status = boot.status()
    expect(status["operation"] == "idle" and not status.get("rebootPending") and status.get("nextBootSlot") == "A",
           "the automatic update skipped the quarantined 3.0.0: nothing installed, A boots next")
    boot.cut()


def hung_trial(run):
    machine = run.machine("hung-trial")
    first = machine.boot_to_shell()
    booted(first, "A", "1.0.0")
    install(first, "3.0.1")
    reboot(first)
    for attempt in (1, 2):
        trial = machine.power_on(f"{machine.boots + 1} (trial {attempt} of 3.0.1)")
        panic = trial.serial.wait_for(r"Kernel panic", BOOT_SECONDS)
        expect(panic is not None, f"trial {attempt}: the kernel of 3.0.1 hung (panic, no reboot)")
        hung_at = time.monotonic()
        trial.wait_power_off("the i6300esb watchdog", timeout=120)
        note(f"the watchdog reset the hung machine {time.monotonic() - hung_at:.0f} s after the panic")
    assert_fallback(run, machine, "3.0.1")[0].cut()


# 4. Power cuts at each step of an install and its trial.

def progress_fraction(boot):
    status = boot.status()
    progress = status.get("progress")
    if not progress or progress.get("phase") != "writing" or not progress.get("bytesTotal"):
        return 0.0
    return progress["bytesDone"] / progress["bytesTotal"]


def cut_when_grubenv_says(boot, line, what):
    """Cuts the power the moment the guest sees line in the grubenv: a shell loop in the guest
    prints a marker as soon as the new bytes are in its page cache, before or while they are
    flushed, and the host kills QEMU on the marker."""
    since = len(boot.serial.text)
    boot.serial.send(f"until grep -q '^{line}$' {GRUBENV}; do :; done; echo \"CUT\"\"-NOW\"\n")
    seen = boot.serial.wait_for(r"CUT-NOW", 300, since)
    boot.cut()
    expect(seen is not None, f"power cut {what}")


def power_cuts(run):
    machine = run.machine("power-cuts")
    boot = machine.boot_to_shell()
    booted(boot, "A", "1.0.0")
    boot.check("updatectl update --no-wait /bundles/v2.0.0.tandem")
    saved = 0
    for label, fraction in (("early", 0.15), ("half-way", 0.5), ("late", 0.85)):
        boot.wait_until(f"{fraction:.0%} written", lambda: progress_fraction(boot) >= fraction, timeout=300, interval=0.5)
        boot.cut()
        note(f"power cut {label} in the install (at {fraction:.0%} or more)")
        next_boot_verifies(run, machine, {"A": "1.0.0"})
        boot = machine.boot_to_shell()
        status = booted(boot, "A", "1.0.0")
        # What tandemd found at start-up, from its own journal of this boot.
        found = re.search(r"the machine restarted \(power loss or reset\) during transaction \w+, installing version 2\.0\.0.*?; "
                          r"(\d+) of (\d+) bytes were safely written; slot B was left unbootable; resuming",
                          boot.check("journalctl -b -u tandemd -o cat --no-pager"))
        expect(found is not None and int(found.group(1)) >= saved,
               f"tandemd reported the power cut and resumed from its checkpoint ({found.group(1) if found else '?'} bytes)")
        saved = int(found.group(1))
        expect(status["operation"] != "idle" or status.get("rebootPending"),
               f"the install runs again, or has already finished ({status['operation']})")
    cut_when_grubenv_says(boot, "TANDEM_B_TRIES=2", "during the trial flip")
    chosen, _ = next_boot_verifies(run, machine, {"A": "1.0.0", "B": "2.0.0"})
    if chosen == "A":
        note("the flip had not reached the disk: A boots, and the install completes again")
        boot = machine.boot_to_shell()
        booted(boot, "A", "1.0.0")
        boot.wait_until("the resumed install", lambda: boot.status().get("rebootPending") is True, timeout=300, interval=3)
        reboot(boot)
    else:
        note("the flip had reached the disk: B boots on trial")

    trial = machine.boot_to_shell()
    status = booted(trial, "B", "2.0.0")
    expect(status["boot"]["kind"] == "trial", "B boots on trial")
    expect(status["operation"] == "idle" and slot(status, "A")["successful"] and slot(status, "A")["priority"] > 0,
           "nothing resumed into A: the fallback stays good")
    trial.cut()
    note("power cut during the trial boot, before blessing")
    next_boot_verifies(run, machine, {"B": "2.0.0"})

    trial = machine.boot_to_shell()
    status = booted(trial, "B", "2.0.0")
    expect(status["boot"]["kind"] in ("trial", "blessed"), "B boots on trial again, with its second try")
    cut_when_grubenv_says(trial, "TANDEM_B_GOOD=1", "during the blessing")
    chosen, _ = next_boot_verifies(run, machine, {"A": "1.0.0", "B": "2.0.0"})
    last = machine.boot_to_shell()
    if chosen == "B":
        status = booted(last, "B", "2.0.0")
        expect(status["boot"]["kind"] == "normal" and slot(status, "B")["successful"], "the blessing had landed: B is good")
    else:
        status = booted(last, "A", "1.0.0")
        expect(status["boot"]["kind"] == "fallback", "the blessing had not landed: a fallback, reported as such")
    last.cut()


SCENARIOS = ["healthy-update", "rollback-and-mark-bad", "failed-health-check", "hung-trial", "power-cuts"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--updatectl", required=True)
    parser.add_argument("--scenario", action="append", default=[])
    args = parser.parse_args()
    chosen = args.scenario or SCENARIOS
    unknown = [name for name in chosen if name not in SCENARIOS and name != "none"]
    if unknown:
        print(f"vm-test: unknown scenario {', '.join(unknown)}; the scenarios are {', '.join(SCENARIOS)}")
        return 64
    run = Run(args.work, args.updatectl)
    results = []
    continued = None
    for name in SCENARIOS:
        if name not in chosen:
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        boots_before = Machine.total_boots()
        try:
            if name == "healthy-update":
                machine, boot = healthy_update(run)
                continued = (machine, boot)
            elif name == "rollback-and-mark-bad":
                if continued is None:
                    machine, boot = healthy_update(run)
                else:
                    machine, boot = continued
                rollback_and_mark_bad(run, machine, boot)
            elif name == "failed-health-check":
                failed_health_check(run)
            elif name == "hung-trial":
                hung_trial(run)
            elif name == "power-cuts":
                power_cuts(run)
            result = "PASS"
        except (ScenarioFailed, Exception) as error:  # noqa: BLE001 - every failure is reported
            result = "FAIL"
            print(f"FAILED: {error}", flush=True)
            if not isinstance(error, ScenarioFailed):
                traceback.print_exc()
        finally:
            if name != "healthy-update" or result != "PASS":
                Machine.power_off_all()
        boots = Machine.total_boots() - boots_before
        if result == "FAIL" and Machine.last_booted:
            print_failure_evidence(Machine.last_booted)
        results.append((name, boots, result, time.monotonic() - started))

    Machine.power_off_all()
    print("\n== vm-test summary")
    print(f"{'scenario':<24} {'real boots':>10} {'result':>7} {'seconds':>8}")
    for name, boots, result, seconds in results:
        print(f"{name:<24} {boots:>10} {result:>7} {seconds:>8.0f}")
    failed = [name for name, _, result, _ in results if result != "PASS"]
    print(f"{len(results) - len(failed)} of {len(results)} scenarios passed, "
          f"{sum(boots for _, boots, _, _ in results)} real boots")
    return 1 if failed else 0


def print_failure_evidence(machine):
    """The serial console of the machine's last boot and the guest's journal of that boot."""
    if machine.current:
        with open(machine.current.log, errors="replace") as log:
            tail = log.read().replace("\r", "").splitlines()[-60:]
        print(f"--- {os.path.basename(machine.current.log)} (last 60 lines)")
        print("\n".join(tail))
    try:
        print("--- the guest's journal of its last boot (last 150 lines)")
        print(machine.journal(lines=150))
    except Exception as error:  # noqa: BLE001 - evidence is best effort
        print(f"(no journal: {error})")


if __name__ == "__main__":
    sys.exit(main())
