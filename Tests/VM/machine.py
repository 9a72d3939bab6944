"""One guest machine of the VM test: its own copy of the prepared disk, firmware variables and
bundles disk, powered on as a fresh QEMU process per boot and driven through its serial console.
After power-off the test reads the disk itself: the grub-env state through the host's updatectl,
the slots' bytes, and the guest's journal from the /var partition."""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
# Generous: under TCG a boot to the login prompt takes about 25 s, and more while another
# QEMU or a build runs.
BOOT_SECONDS = float(os.environ.get("TANDEM_VM_BOOT_SECONDS", "300"))
SLOT_PARTITIONS = {"A": 3, "B": 4}
VAR_PARTITION = 9
ESP_PARTITION = 1


class ScenarioFailed(Exception):
    """A scenario's expectation did not hold; the message says which."""


def expect(condition, message):
    if not condition:
        raise ScenarioFailed(message)
    note(f"ok: {message}")


def note(message):
    print(f"    {message}", flush=True)


def run(argv, **options):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **options).stdout


def partition_extent(disk, number):
    info = run(["sgdisk", "-i", str(number), disk])
    first = int(re.search(r"First sector: (\d+)", info).group(1))
    sectors = int(re.search(r"Partition size: (\d+) sectors", info).group(1))
    return first * 512, sectors * 512


def blocks_of(path, offset=0, length=None):
    """The bytes of path from offset on (to its end, or length of them), a block at a time."""
    with open(path, "rb") as source:
        source.seek(offset)
        left = os.path.getsize(path) - offset if length is None else length
        while left > 0:
            block = source.read(min(left, 4 << 20))
            if not block:
                return
            yield block
            left -= len(block)


def sha256_of(path, offset=0, length=None):
    digest = hashlib.sha256()
    for block in blocks_of(path, offset, length):
        digest.update(block)
    return digest.hexdigest()


class Serial:
    """The guest's serial console: everything it printed, and a way to type."""

    def __init__(self, path, process):
        self.process = process
        self.text = ""
        self.changed = threading.Condition()
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline or process.poll() is not None:
                    raise ScenarioFailed("QEMU's serial socket never appeared")
                time.sleep(0.05)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.changed:
                if not data:
                    self.closed = True
                    self.changed.notify_all()
                    return
                self.text += data.decode("utf-8", "replace").replace("\r", "")
                self.changed.notify_all()

    closed = False

    def wait_for(self, pattern, timeout, since=0):
        """The first match of pattern in what the console printed from offset since on."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                match = regex.search(self.text, since)
                if match:
                    return match
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.changed.wait(min(left, 1.0))

    def send(self, text):
        self.sock.sendall(text.encode())

    def close(self):
        self.sock.close()


class Boot:
    """One power-on: a fresh QEMU process that exits when the guest powers off or resets."""

    def __init__(self, machine, label):
        self.machine = machine
        self.label = label
        self.log = os.path.join(machine.directory, f"boot-{machine.boots}-serial.log")
        sock = os.path.join(machine.directory, "serial.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        argv = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "1024",
                "-nodefaults", "-display", "none", "-monitor", "none", "-no-reboot",
                "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={machine.vars}",
                "-drive", f"if=none,id=disk,format=raw,file={machine.disk}",
                "-device", "virtio-blk-pci,drive=disk,bootindex=0",
                "-drive", f"if=none,id=bundles,format=raw,readonly=on,file={machine.bundles}",
                "-device", "virtio-blk-pci,drive=bundles",
                "-device", "i6300esb", "-action", "watchdog=reset",
                "-chardev", f"socket,id=console,path={sock},server=on,wait=off,logfile={self.log}",
                "-serial", "chardev:console"]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(self.log + ".qemu-stderr", "w"))
        self.serial = Serial(sock, self.process)
        self.commands = 0
        self.started = time.monotonic()

    def login(self):
        """Waits for the autologin shell and makes it quiet and machine-readable."""
        if not self.serial.wait_for(r"root@tandem-vm[^\n]*# ", BOOT_SECONDS):
            raise ScenarioFailed(f"boot {self.label}: no shell on the console within {BOOT_SECONDS:.0f} s")
        self.serial.send("stty -echo cols 1000; export PS1= TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0; dmesg -n 1\n")
        self.shell("true")
        note(f"boot {self.label}: shell after {time.monotonic() - self.started:.0f} s")

    def shell(self, command, timeout=120):
        """Runs command in the guest's shell: its exit status and output."""
        self.commands += 1
        marker = f"@@{self.commands}@@"
        since = len(self.serial.text)
        # The marker is split by quotes, so that the echoed command (if echo is still on) never
        # matches it.
        self.serial.send(f"{command} 2>&1; echo \"@@{self.commands}\"\"@@$?@@\"\n")
        match = self.serial.wait_for(re.escape(marker) + r"(\d+)@@", timeout, since)
        if not match:
            raise ScenarioFailed(f"boot {self.label}: '{command}' did not finish within {timeout} s")
        output = self.serial.text[since:match.start()]
        return int(match.group(1)), output

    def check(self, command, timeout=120):
        status, output = self.shell(command, timeout)
        if status != 0:
            raise ScenarioFailed(f"boot {self.label}: '{command}' exited {status}: {output.strip()[-2000:]}")
        return output

    def json(self, command, timeout=120):
        output = self.check(command, timeout)
        start, end = output.find("{"), output.rfind("}")
        if start < 0 or end < start:
            raise ScenarioFailed(f"boot {self.label}: no JSON from '{command}': {output[-500:]}")
        return json.loads(output[start:end + 1])

    def status(self):
        return self.json("updatectl status --json")

    def wait_until(self, description, condition, timeout=120, interval=1.0):
        """Polls condition (a function of nothing) until it holds, with a deadline."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise ScenarioFailed(f"boot {self.label}: {description} did not happen within {timeout} s")
            time.sleep(interval)

    def wait_power_off(self, why, timeout=BOOT_SECONDS):
        """The guest powered off or reset by itself (QEMU runs with -no-reboot)."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.cut()
            raise ScenarioFailed(f"boot {self.label}: {why} did not end the boot within {timeout:.0f} s")
        self.serial.close()
        note(f"boot {self.label}: powered off after {time.monotonic() - self.started:.0f} s ({why})")

    def cut(self):
        """A power cut: QEMU is killed; what the guest had not written is gone."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.serial.close()


class Machine:
    """A scenario's guest: its own disk and firmware variables, copied from the prepared ones."""

    # Every machine made, so that whatever a scenario left running is powered off at its end,
    # and the one that booted last, whose console and journal a failure shows.
    made = []
    last_booted = None

    def __init__(self, work, name, bundles, updatectl):
        self.work = work
        self.updatectl = updatectl
        self.directory = os.path.join(work, "scenarios", name)
        shutil.rmtree(self.directory, ignore_errors=True)
        os.makedirs(self.directory)
        self.disk = os.path.join(self.directory, "disk.img")
        self.vars = os.path.join(self.directory, "vars.fd")
        subprocess.run(["cp", "--sparse=always", os.path.join(work, "disk.img"), self.disk], check=True)
        shutil.copy(os.path.join(work, "vars.fd"), self.vars)
        self.bundles = os.path.join(work, bundles)
        self.boots = 0
        self.current = None
        Machine.made.append(self)

    @classmethod
    def total_boots(cls):
        return sum(machine.boots for machine in cls.made)

    @classmethod
    def power_off_all(cls):
        for machine in cls.made:
            if machine.current:
                machine.current.cut()

    def power_on(self, label=None):
        self.boots += 1
        Machine.last_booted = self
        self.current = Boot(self, label or str(self.boots))
        return self.current

    def boot_to_shell(self, label=None):
        boot = self.power_on(label)
        boot.login()
        return boot

    # What the disk holds after power-off, read on the host.

    def esp_tree(self):
        """The ESP's tandem directory, copied out with mtools."""
        offset, _ = partition_extent(self.disk, ESP_PARTITION)
        tree = os.path.join(self.directory, "esp")
        shutil.rmtree(tree, ignore_errors=True)
        os.makedirs(tree)
        run(["mcopy", "-s", "-n", "-i", f"{self.disk}@@{offset}", "::/tandem", tree])
        return tree

    def boot_state(self):
        """The grub-env state as the host's updatectl reads it from the disk."""
        return json.loads(run([self.updatectl, "disk", "show", "--json", "--backend", "grub-env", "--esp", self.esp_tree(),
                               self.disk]))

    def slot_holds(self, slot, image):
        """Whether slot's partition starts with exactly image's bytes."""
        offset, size = partition_extent(self.disk, SLOT_PARTITIONS[slot])
        length = os.path.getsize(image)
        return length <= size and sha256_of(self.disk, offset, length) == sha256_of(image)

    def journal(self, boot=None, lines=200):
        """The guest's journal for one boot (default: the last), read from the /var partition."""
        offset, size = partition_extent(self.disk, VAR_PARTITION)
        copy = os.path.join(self.directory, "var.img")
        with open(copy, "wb") as target:
            for block in blocks_of(self.disk, offset, size):
                target.write(block)
        directory = os.path.join(self.directory, "journal")
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        subprocess.run(["debugfs", "-R", f"rdump /log/journal {directory}", copy], capture_output=True)
        os.unlink(copy)
        argv = ["journalctl", "-D", os.path.join(directory, "journal"), "--no-pager", "-o", "short-monotonic",
                "-b", str(boot if boot is not None else 0)]
        result = subprocess.run(argv, capture_output=True, text=True)
        return "\n".join((result.stdout + result.stderr).splitlines()[-lines:])
