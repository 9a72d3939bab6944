#!/usr/bin/env python3
"""Tandem's benchmark (make bench). Every figure is the median of BENCH_RUNS runs, and every
ratio is taken against a baseline measured in the same run on the same machine.

Needs root (loop devices), nginx and casync (make bench installs them). Image size: BENCH_IMAGE_MIB (default 2048). The GetStatus latency
figures run tandemd (from the same directory as updatectl) on a private dbus-daemon, polled by
status_latency.c (needs libsystemd's headers).
"""
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import image_pair

bin_dir = sys.argv[1]
updatectl = os.path.join(bin_dir, "updatectl")
tandemd = os.path.join(bin_dir, "tandemd")
scripts = os.path.dirname(os.path.abspath(__file__))
runs = int(os.environ.get("BENCH_RUNS", "5"))
image_mib = int(os.environ.get("BENCH_IMAGE_MIB", "2048"))
work = tempfile.mkdtemp(prefix="tandem-bench.")
loops = []
servers = []
daemons = []  # tandemd, stopped with SIGTERM
buses = []  # private dbus-daemons and latency clients, killed
namespaces = []  # network namespaces of shaped links, deleted with their veth pairs
USR = "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6"
# The link the delta figures are taken over besides loopback: a host's 1 Gbit/s.
LINK_RATE = "1gbit"
# The realistic image pair is built once and kept (it takes minutes): BENCH_PAIR_DIR.
pair_dir = os.environ.get("BENCH_PAIR_DIR", os.path.join(scripts, "..", "..", ".build-bench", "pair"))


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs).stdout


def warm(path):
    sh("sync")
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass


def timed(args, warm_file, env=None):
    warm(warm_file)
    start = time.monotonic()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.monotonic() - start


def median(args, warm_file, env=None):
    timed(args, warm_file, env)  # warm-up run, not counted
    return statistics.median(timed(args, warm_file, env) for _ in range(runs))


def in_turns(*commands):
    """Medians of COMMANDS ((args, warm_file) each) run in turns, so that the machine's drift
    (writeback, the host's other load, which moved single figures by half between runs of this
    bench) weighs on all of them alike: the figures a ratio between them needs."""
    for args, warm_file in commands:  # warm-up runs, not counted
        timed(args, warm_file)
    turns = [[timed(args, warm_file) for args, warm_file in commands] for _ in range(runs)]
    return [statistics.median(turn[n] for turn in turns) for n in range(len(commands))]


def percentile(samples, p):
    """Nearest rank, as status_latency.c: the smallest sample with at least p of all at or below it."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def start_bus():
    """A private dbus-daemon of type system that lets anyone own and call anything; returns its address."""
    directory = os.path.join(work, "bus")
    os.mkdir(directory)
    config = os.path.join(directory, "bus.conf")
    with open(config, "w") as handle:
        handle.write('<busconfig><type>system</type><listen>unix:path=%s/bus</listen><auth>EXTERNAL</auth>'
                     '<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>'
                     '<allow receive_sender="*"/></policy></busconfig>\n' % directory)
    # Its stderr goes to a file: run as root, it complains that it cannot raise its fd limit.
    log = os.path.join(directory, "dbus-daemon.log")
    bus = subprocess.Popen(["dbus-daemon", "--config-file=" + config, "--nofork", "--print-address"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
    buses.append(bus)
    address = bus.stdout.readline().strip()
    if not address.startswith("unix:"):
        sys.exit("dbus-daemon did not start:\n" + open(log).read())
    return address.split(",")[0]


def start_tandemd(loop, keys, address):
    """tandemd on the bus at `address`, slot A booted on `loop`; returns once it answers GetStatus."""
    directory = os.path.join(work, "daemon")
    os.mkdir(directory)
    os_release = os.path.join(directory, "os-release")
    with open(os_release, "w") as handle:
        handle.write("ID=bench\nVERSION_ID=1.0.0\n")
    config = os.path.join(directory, "tandem.conf")
    with open(config, "w") as handle:
        handle.write("[Slots]\nDisk=%s\nBootedSlot=A\n[Update]\nKeysDirectory=%s\n[Host]\nOSRelease=%s\n"
                     "[Daemon]\nStateDirectory=%s\n" % (loop, keys, os_release, os.path.join(directory, "state")))
    log = os.path.join(directory, "tandemd.log")
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
    daemon = subprocess.Popen([tandemd, "--config", config], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    daemons.append(daemon)
    deadline = time.monotonic() + 30
    while subprocess.run(["busctl", "--address=" + address, "call", "com.coreos.update1", "/com/coreos/update1",
                          "com.coreos.update1.Manager", "GetStatus"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        if daemon.poll() is not None or time.monotonic() > deadline:
            sys.exit("tandemd did not start:\n" + open(log).read())
        time.sleep(0.05)
    return env, log


def serve_with_nginx(path, address="127.0.0.1"):
    """nginx (sendfile on, as a static update server runs it) serving `path` on a free port of
    `address` (loopback, or the host end of shaped_link()); returns its URL."""
    root = os.path.dirname(path)
    probe = socket.socket()
    probe.bind((address, 0))
    port = probe.getsockname()[1]
    probe.close()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as out:
        # Workers as root: the bench runs as root, and its files are in a private temporary directory.
        out.write("daemon off; user root; worker_processes 1; pid %s/nginx.pid; error_log %s/nginx.log;\n"
                  "events { worker_connections 64; }\n"
                  "http { access_log off; sendfile on; tcp_nopush on;\n"
                  "       server { listen %s:%d; root %s; } }\n" % (work, work, address, port, root))
    server = subprocess.Popen(["nginx", "-c", conf, "-p", work])
    servers.append(server)
    url = "http://%s:%d/%s" % (address, port, os.path.basename(path))
    deadline = time.monotonic() + 10
    while subprocess.run(["curl", "-sfI", url], stdout=subprocess.DEVNULL).returncode != 0:
        if server.poll() is not None or time.monotonic() > deadline:
            sys.exit("nginx did not start:\n" + open(os.path.join(work, "nginx.log")).read())
        time.sleep(0.05)
    return url


def shaped_link(rate):
    """A network link of `rate` (tc's units): a veth pair whose far end is in a network namespace
    this run creates, the near end's egress (the downloads) shaped by tbf. Returns the
    namespace, for `ip netns exec`, and the near end's address, for nginx to listen on. (No
    netem on this kernel: the link has a rate, not a latency.)"""
    namespace = "tandem-bench-%d" % os.getpid()
    near, far = "tbn%d" % (os.getpid() % 100000), "tbf%d" % (os.getpid() % 100000)
    sh("ip", "netns", "add", namespace)
    namespaces.append(namespace)
    sh("ip", "link", "add", near, "type", "veth", "peer", "name", far)
    sh("ip", "link", "set", far, "netns", namespace)
    sh("ip", "addr", "add", "10.213.7.1/30", "dev", near)
    sh("ip", "link", "set", near, "up")
    sh("ip", "netns", "exec", namespace, "ip", "addr", "add", "10.213.7.2/30", "dev", far)
    sh("ip", "netns", "exec", namespace, "ip", "link", "set", far, "up")
    sh("tc", "qdisc", "add", "dev", near, "root", "tbf", "rate", rate, "burst", "256kb", "latency", "50ms")
    return namespace, "10.213.7.1"


def make_disk(name, image_bytes, direct_io):
    slot_mib = (image_bytes >> 20) + 64
    path = os.path.join(work, name)
    sh("truncate", "-s", "%dM" % (2 * slot_mib + 16), path)
    sh("sgdisk", "-o", "-n", "3:0:+%dM" % slot_mib, "-t", "3:" + USR, "-c", "3:USR-A", "-A", "3:set:48", "-A", "3:set:56",
       "-n", "4:0:+%dM" % slot_mib, "-t", "4:" + USR, "-c", "4:USR-B", path)
    # Fill slot B once so that every timed run overwrites written blocks, as a real A/B update does.
    loop = sh("losetup", "--find", "--show", "--direct-io=%s" % ("on" if direct_io else "off"), path).strip()
    loops.append(loop)
    report = json.loads(sh(updatectl, "disk", "show", loop, "--json"))
    offset = next(p for p in report["partitions"] if p["number"] == 4)["firstLBA"] * 512
    sh("dd", "if=/dev/zero", "of=" + loop, "bs=4M", "oflag=direct,seek_bytes", "seek=%d" % offset,
       "count=%d" % (slot_mib // 4), "conv=notrunc", "status=none")
    return loop, offset


def main():
    image = os.path.join(work, "image.raw")
    small_image = os.path.join(work, "small.raw")
    print("== preparing a %d MiB random image and signed bundles in %s" % (image_mib, work), flush=True)
    sh("sh", "-c", "head -c %d /dev/urandom > '%s'" % (image_mib << 20, image))
    sh("sh", "-c", "head -c %d /dev/urandom > '%s'" % (256 << 20, small_image))
    keys = os.path.join(work, "keys.d")
    os.mkdir(keys)
    private = os.path.join(work, "key.pem")
    sh(updatectl, "image", "keygen", "--private", private, "--public", os.path.join(keys, "bench.pem"))
    bundle = os.path.join(work, "bench.tandem")
    small_bundle = os.path.join(work, "small.tandem")
    legacy_bundle = os.path.join(work, "bench-format1.tandem")
    # Random images: their block files would be as large as they are, and no delta reads them.
    for raw, out, extra in [(image, bundle, ["--no-block-file"]), (small_image, small_bundle, ["--no-block-file"]),
                            (image, legacy_bundle, ["--format", "1"])]:
        sh(updatectl, "image", "create", "--key", private, "--version", "2.0.0", "--compatible", "bench",
           "--image", raw, "--out", out, *extra)
    state = os.path.join(work, "state")
    counter = os.path.join(work, "malloc_count.so")
    sh("gcc", "-O2", "-shared", "-fPIC", "-o", counter, os.path.join(scripts, "malloc_count.c"), "-ldl")
    latency = os.path.join(work, "status_latency")
    sh("gcc", "-O2", "-o", latency, os.path.join(scripts, "status_latency.c"),
       *sh("pkg-config", "--cflags", "--libs", "libsystemd").split())

    def install(loop, source, readback, expect=False):
        args = [updatectl, "disk", "install", loop, source, "--keys", keys, "--booted-slot", "A",
                "--compatible", "bench", "--state-dir", state]
        if expect:
            # What an Omaha server publishes: the whole file's size and SHA-256 (base64).
            digest = sh("sh", "-c", "openssl dgst -sha256 -binary '%s' | base64" % source).strip()
            args += ["--expect-size", str(os.path.getsize(source)), "--expect-sha256", digest]
        return args + ([] if readback else ["--no-verify-readback"])

    rows = []
    for label, direct_io in [("loop, --direct-io=on", True), ("loop, plain", False)]:
        print("\n== %s, %d MiB image, median of %d" % (label, image_mib, runs), flush=True)
        loop, offset = make_disk("disk-%s.img" % ("dio" if direct_io else "plain"), image_mib << 20, direct_io)
        dd = ["dd", "if=" + image, "of=" + loop, "bs=4M", "oflag=direct,seek_bytes", "seek=%d" % offset,
              "conv=notrunc", "status=none"]
        # The figures the ratios below divide, in turns; the others on their own.
        format3, format1, payload, hashing, writing = in_turns(
            (install(loop, bundle, False), bundle), (install(loop, legacy_bundle, False), legacy_bundle),
            (install(loop, bundle, False, expect=True), bundle), (["openssl", "dgst", "-sha256", image], image), (dd, image))
        figures = {
            "T_tandem (read-back off)": format3,
            "T_tandem format 1 (read-back off)": format1,
            "T_tandem (read-back on)": median(install(loop, bundle, True), bundle),
            "T_tandem + whole-file SHA-256 (off)": payload,
            "T_hash (openssl dgst -sha256)": hashing,
            "T_write (dd bs=4M oflag=direct)": writing,
            "T_script (sha256sum && dd)": median(["sh", "-c", "sha256sum '%s' >/dev/null && %s" % (image, " ".join(dd))], image),
        }
        limit = max(figures["T_hash (openssl dgst -sha256)"], figures["T_write (dd bs=4M oflag=direct)"])
        for name, seconds in figures.items():
            print("%-40s %8.3f s  %7.0f MB/s" % (name, seconds, (image_mib << 20) / seconds / 1e6))
        ratio_off = figures["T_tandem (read-back off)"] / limit
        ratio_script = figures["T_script (sha256sum && dd)"] / figures["T_tandem (read-back off)"]
        print("%-40s %8.2f   (target <= 1.10, stretch <= 1.0)" % ("T_tandem / max(T_hash, T_write)", ratio_off))
        print("%-40s %8.2f   (read-back on)" % ("", figures["T_tandem (read-back on)"] / limit))
        print("%-40s %8.2f   (a second SHA-256 pass on its own thread)" % (
            "T_tandem+payload / T_tandem", figures["T_tandem + whole-file SHA-256 (off)"] / figures["T_tandem (read-back off)"]))
        print("%-40s %8.2f   (target >= 5)" % ("T_script / T_tandem", ratio_script))
        print("%-40s %8.2f   (format 3 proves chunks on %d cores; format 1 hashes one stream)" % (
            "T_tandem / T_tandem format 1", figures["T_tandem (read-back off)"] / figures["T_tandem format 1 (read-back off)"],
            os.cpu_count()))
        rows.append((label, figures, ratio_off, ratio_script))

        if direct_io:
            timed_run = subprocess.run(["/usr/bin/time", "-f", "%M"] + install(loop, bundle, True), check=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            rss = timed_run.stderr.strip().splitlines()[-1]
            print("%-40s %8.1f MiB (target <= 32)" % ("peak RSS of updatectl disk install", int(rss) / 1024))
            counts = []
            for source in [small_bundle, bundle]:
                count_file = os.path.join(work, "count")
                env = dict(os.environ, LD_PRELOAD=counter, MALLOC_COUNT_FILE=count_file)
                # Checkpoints (every 64 MiB by default) allocate to encode their JSON; they are
                # not per chunk, so this comparison turns them off to isolate the streaming loop.
                subprocess.run(install(loop, source, True) + ["--checkpoint-mib", "1000000"], check=True,
                               stdout=subprocess.DEVNULL, env=env)
                counts.append(int(open(count_file).read()))
            extra_chunks = (image_mib - 256) * 2  # 1 MiB chunks, streamed and read back
            print("%-40s %8d vs %d allocations: %+d for %d more chunks (%.4f per chunk; target 0)" % (
                "heap allocations, 256 MiB vs %d MiB" % image_mib, counts[0], counts[1], counts[1] - counts[0],
                extra_chunks, (counts[1] - counts[0]) / extra_chunks))

            # The same bundle from nginx on loopback, against the file install timed alongside.
            url = serve_with_nginx(bundle)
            # In turns with the baselines of the full-install target, so that they share the
            # machine's state of the moment. An install is done only once the slot is on stable
            # storage, so the write it is held to is dd's with its fsync; dd's without it is
            # shown beside (this VM's disk took 0.15 to 0.55 s to flush 512 MiB).
            t_file, t_http, t_curl, t_write, t_write_cached, t_hash = in_turns(
                (install(loop, bundle, False), bundle), (install(loop, url, False), bundle),
                (["curl", "-s", "-o", "/dev/null", url], bundle), (dd[:-2] + ["conv=notrunc,fsync", "status=none"], image),
                (dd, image), (["openssl", "dgst", "-sha256", image], image))
            print("%-40s %8.3f s" % ("T_tandem from the file (read-back off)", t_file))
            print("%-40s %8.3f s" % ("T_tandem over HTTP from nginx (same)", t_http))
            print("%-40s %8.3f s" % ("T_curl (curl -o /dev/null)", t_curl))
            print("%-40s %8.3f s" % ("T_write (dd oflag=direct conv=fsync)", t_write))
            print("%-40s %8.3f s" % ("  the same dd without its fsync", t_write_cached))
            print("%-40s %8.3f s" % ("T_hash / cores (openssl dgst)", t_hash / os.cpu_count()))
            print("%-40s %8.2f   (target <= 1.10)" % ("T_tandem_http / T_tandem_file", t_http / t_file))
            print("%-40s %8.2f" % ("T_tandem_http / T_curl", t_http / t_curl))
            full_limit = max(t_write, t_hash / os.cpu_count(), t_curl)
            print("%-40s %8.2f   (target <= 1.10)" % ("T_tandem / max(T_write, T_hash/cores, T_curl)", t_file / full_limit))
            print("%-40s %8.2f   (dd without its fsync)" % ("", t_file / max(t_write_cached, t_hash / os.cpu_count(), t_curl)))

            # Through tandemd on a private system bus, while status_latency calls GetStatus and
            # GetAll with 5 ms between calls. The direct install is timed again, alternating with
            # the daemon's, under the same polling, so that machine load cannot tilt the ratio;
            # only the samples taken during the daemon's installs count, pooled over its runs.
            address = start_bus()
            env, daemon_log = start_tandemd(loop, keys, address)
            stop = os.path.join(work, "stop")
            samples = os.path.join(work, "samples")
            pooled = {"GetStatus": [], "GetAll": []}
            downloading = 0

            def polled(args, measure):
                nonlocal downloading
                warm(bundle)
                if os.path.exists(stop):
                    os.unlink(stop)
                client = subprocess.Popen([latency, "-i", "5", "-o", samples, stop], env=env,
                                          stdout=subprocess.PIPE, text=True)
                buses.append(client)
                if client.stdout.readline().strip() != "ready":
                    sys.exit("status_latency failed (exit status %s)" % client.wait())
                start = time.monotonic()
                run = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
                seconds = time.monotonic() - start
                open(stop, "w").close()
                client.communicate(timeout=60)
                if run.returncode != 0:
                    sys.exit("%s failed: %s\ntandemd's log:\n%s" % (" ".join(args[:3]), run.stderr, open(daemon_log).read()))
                if client.returncode != 0:
                    sys.exit("status_latency failed (exit status %d)" % client.returncode)
                if measure:
                    for line in open(samples):
                        fields = line.split()
                        pooled[fields[0]].append(float(fields[1]))
                        downloading += fields[0] == "GetStatus" and fields[2] == "UPDATE_STATUS_DOWNLOADING"
                return seconds

            for readback in [False, True]:
                direct = install(loop, bundle, readback)
                daemon = [updatectl, "update", bundle] + ([] if readback else ["--no-verify-readback"])
                polled(direct, False)  # warm-up runs, not counted
                polled(daemon, False)
                pairs = [(polled(direct, False), polled(daemon, True)) for _ in range(runs)]
                t_direct = statistics.median(pair[0] for pair in pairs)
                t_daemon = statistics.median(pair[1] for pair in pairs)
                label = "on" if readback else "off"
                print("%-40s %8.3f s  %7.0f MB/s" % ("T_tandem, polled (read-back %s)" % label, t_direct,
                                                      (image_mib << 20) / t_direct / 1e6))
                print("%-40s %8.3f s  %7.0f MB/s" % ("T_daemon (read-back %s)" % label, t_daemon,
                                                      (image_mib << 20) / t_daemon / 1e6))
                print("%-40s %8.2f   (read-back %s; 1.00: the daemon costs nothing)" % (
                    "T_daemon / T_tandem, polled", t_daemon / t_direct, label))
            daemon_process = daemons.pop()
            daemon_process.send_signal(signal.SIGTERM)
            if daemon_process.wait(timeout=30) != 0:
                sys.exit("tandemd exited with status %d after SIGTERM:\n%s" % (
                    daemon_process.returncode, open(daemon_log).read()))
            for method, latencies in pooled.items():
                note = " (%d saw UPDATE_STATUS_DOWNLOADING)" % downloading if method == "GetStatus" else ""
                print("%-40s %8d calls, p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 < 20 ms)%s" % (
                    "%s during install" % method, len(latencies), percentile(latencies, 0.50),
                    percentile(latencies, 0.99), max(latencies), note))

    print("\n== A realistic image pair: ext4 images of about 1 GiB of this machine's /usr, the second a point "
          "release (Tests/Scripts/image_pair.py, kept in %s)" % os.path.abspath(pair_dir), flush=True)
    for line in image_pair.chunking_table(pair_dir):
        print(line)
    old_image, new_image = image_pair.build(pair_dir)
    pair_bundles = []
    for raw, name in [(old_image, "old"), (new_image, "new")]:
        pair_bundles.append(os.path.join(work, "%s.tandem" % name))
        sh(updatectl, "image", "create", "--key", private, "--version", name, "--compatible", "bench",
           "--image", raw, "--out", pair_bundles[-1])
    print(sh(updatectl, "image", "diff", *pair_bundles).rstrip())
    delta_figures(old_image, pair_bundles, install)

    print("\n== GPT flip (both copies written, synced, verified), median of %d" % runs)
    flip_disk, _ = (loops[0], None)
    t_flip = median([updatectl, "disk", "mark", flip_disk, "B", "trial"], small_image)
    t_sgdisk = median(["sgdisk", "-A", "4:toggle:52", flip_disk], small_image)
    print("%-40s %8.4f s" % ("T_flip (updatectl disk mark B trial)", t_flip))
    print("%-40s %8.4f s" % ("T_sgdisk (sgdisk -A 4:toggle:52)", t_sgdisk))


def delta_figures(old_image, pair_bundles, install):
    """The point release installed over nginx onto a disk whose booted slot A holds the old
    image: as a delta (with slot A's keys recorded by the install that put the old image there,
    and without, hashing slot A), in full (--no-delta), and casync extract --seed=OLD from a
    casync store of NEW served by the same nginx, in turns; bytes downloaded by each."""
    old_bundle, new_bundle = pair_bundles
    print("\n== Delta install of the point release over nginx (booted slot A holds the old image), median of %d"
          % runs, flush=True)
    loop, _ = make_disk("disk-pair.img", os.path.getsize(old_image), True)
    # The old image goes into slot A as a host would have got it: installed from its bundle,
    # which records A's block keys in the state directory.
    into_a = install(loop, old_bundle, True)
    into_a[into_a.index("--booted-slot") + 1] = "B"
    sh(*into_a)
    unrecorded_state = os.path.join(work, "state-unrecorded")
    url = serve_with_nginx(new_bundle)
    _, _, casync_bytes, casync_index = image_pair.casync_delta(pair_dir, old_image, image_pair.build(pair_dir)[1])
    store_url = serve_with_nginx(os.path.join(pair_dir, "casync-new.castr"))
    extracted = os.path.join(work, "casync-extract.raw")
    casync = ["casync", "extract", "--store=" + store_url, "--seed=" + old_image,
              os.path.join(pair_dir, "casync-new.caibx"), extracted]
    delta = install(loop, url, True)
    hashed = install(loop, url, True)
    hashed[hashed.index("--state-dir") + 1] = unrecorded_state
    full = install(loop, url, True) + ["--no-delta"]
    times = {"delta": [], "hashed": [], "full": [], "casync": []}
    for _ in range(runs):
        for name, args in [("delta", delta), ("hashed", hashed), ("full", full), ("casync", casync)]:
            if name == "casync" and os.path.exists(extracted):
                os.unlink(extracted)
            # No record of slot A here, ever: the delta hashes it.
            shutil.rmtree(unrecorded_state, ignore_errors=True)
            times[name].append(timed(args, new_bundle))
    full_bytes = os.path.getsize(new_bundle)
    t_delta, t_hashed, t_full, t_casync = (statistics.median(times[n]) for n in ("delta", "hashed", "full", "casync"))

    def measure(args):
        measured = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, check=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        keys = next((line for line in measured.stdout.splitlines() if "block keys: " in line), "no block keys line")
        return measured, int(measured.stderr.strip().splitlines()[-1]) / 1024, keys

    measured, delta_rss, recorded_keys = measure(delta)
    shutil.rmtree(unrecorded_state, ignore_errors=True)
    _, hashed_rss, hashed_keys = measure(hashed)
    copied = next((line for line in measured.stdout.splitlines() if line.startswith("delta: ")), "no delta line")
    # What crossed the network: the preamble and chunk table (up to the image), then what the
    # installer says it downloaded for the image (from the block file, compressed).
    preamble = json.loads(sh(updatectl, "image", "inspect", new_bundle, "--json"))["header"]["imageOffset"]
    delta_bytes = preamble + int(copied.rsplit("(", 1)[1].split(" ")[0])
    print("%-44s %10s %14s" % ("", "time", "downloaded"))
    print("%-44s %8.2f s %14d" % ("delta (preamble, table, compressed blocks)", t_delta, delta_bytes))
    print("%-44s %8.2f s %14d" % ("delta, slot A hashed (no record)", t_hashed, delta_bytes))
    print("%-44s %8.2f s %14d" % ("full (--no-delta)", t_full, full_bytes))
    print("%-44s %8.2f s %14d" % ("casync extract --seed=OLD (chunks + index)", t_casync, casync_bytes + casync_index))
    print("delta / full: time %.2f, bytes %.3f; delta / casync: time %.2f, bytes %.2f (targets: faster than both, "
          "no more bytes than casync)" % (t_delta / t_full, delta_bytes / full_bytes, t_delta / t_casync,
                                          delta_bytes / (casync_bytes + casync_index)))
    print("delta, slot A hashed / full: time %.2f" % (t_hashed / t_full))
    print("updatectl said: %s; %s (hashed: %s)" % (copied, recorded_keys, hashed_keys))
    print("peak RSS of the delta install %.1f MiB, hashing slot A %.1f MiB (target <= 32)" % (delta_rss, hashed_rss),
          flush=True)

    # The same three over a link of a fleet's speed: the download is what a delta saves, and on
    # loopback it costs next to nothing.
    print("\n== The same, over a %s link (veth into a network namespace, shaped by tbf), median of %d" % (LINK_RATE, runs),
          flush=True)
    namespace, address = shaped_link(LINK_RATE)
    linked_url = serve_with_nginx(new_bundle, address)
    linked_store = serve_with_nginx(os.path.join(pair_dir, "casync-new.castr"), address)
    inside = ["ip", "netns", "exec", namespace]
    linked = {"delta": inside + install(loop, linked_url, True), "full": inside + install(loop, linked_url, True) + ["--no-delta"],
              "casync": inside + [casync[0], casync[1], "--store=" + linked_store] + casync[3:]}
    linked_times = {name: [] for name in linked}
    for _ in range(runs):
        for name, args in linked.items():
            if name == "casync" and os.path.exists(extracted):
                os.unlink(extracted)
            linked_times[name].append(timed(args, new_bundle))
    l_delta, l_full, l_casync = (statistics.median(linked_times[n]) for n in ("delta", "full", "casync"))
    print("%-44s %8.2f s" % ("delta", l_delta))
    print("%-44s %8.2f s" % ("full (--no-delta)", l_full))
    print("%-44s %8.2f s" % ("casync extract --seed=OLD", l_casync))
    print("delta / full: time %.2f; delta / casync: time %.2f (target: faster than both)" % (
        l_delta / l_full, l_delta / l_casync), flush=True)


# So that `finally` cleans up when make bench is stopped (Ctrl-C already raises KeyboardInterrupt).
for stop_signal in [signal.SIGTERM, signal.SIGHUP]:
    signal.signal(stop_signal, lambda number, frame: sys.exit(128 + number))
try:
    main()
finally:
    for daemon in daemons:
        daemon.send_signal(signal.SIGTERM)
    for daemon in daemons:
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
    for process in buses:
        process.kill()
        process.wait()
    for server in servers:
        server.terminate()
    for loop in loops:
        subprocess.run(["losetup", "-d", loop])
    for namespace in namespaces:
        subprocess.run(["ip", "netns", "delete", namespace])
    shutil.rmtree(work, ignore_errors=True)
