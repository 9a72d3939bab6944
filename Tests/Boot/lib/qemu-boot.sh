# One power-on: a fresh QEMU process (TCG, q35, OVMF) that boots the disk under test once and
# exits when the guest powers off or reboots (-no-reboot), or is killed at its deadline. A warm
# reboot inside one QEMU process stalled for minutes on this kind of machine; a fresh process per
# boot is reliable. The result comes from the serial log.

readonly ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
readonly ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
readonly boot_deadline_seconds=${TANDEM_BOOT_DEADLINE:-120}

# qemu_command DISK VARS LOG ACTION BACKEND: sets qemu_argv to the command line of one boot. VARS
# is the disk's own copy of the firmware variables, so that they persist from boot to boot of one
# disk; the action reaches the guest's /init through fw_cfg, not through the disk under test.
qemu_command() {
    local disk=$1 vars=$2 log=$3 action=$4 backend=$5
    # TCG always: a /dev/kvm that exists can still fail at the first instruction (it does here).
    qemu_argv=(qemu-system-x86_64 -machine q35 -accel tcg -m 512 -smp 1 -nodefaults -display none -monitor none -no-reboot
        -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code"
        -drive "if=pflash,format=raw,file=$vars"
        -drive "if=none,id=target,format=raw,file=$disk" -device virtio-blk-pci,drive=target,bootindex=0,addr=0x4
        -drive "if=none,id=tools,format=raw,readonly=on,file=$tools_disk" -device virtio-blk-pci,drive=tools,addr=0x5
        -fw_cfg "name=opt/tandem/action,string=$action $backend"
        -serial "file:$log")
}

# The serial log without carriage returns and terminal escapes.
serial_lines() { tr -d '\r' < "$1" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g'; }

# boot_field LOG FIELD: a field of the guest's TANDEM-BOOT line (slot, version, entry, cmdline).
boot_field() {
    local line
    line=$(serial_lines "$1" | grep -m1 '^TANDEM-BOOT ') || return 0
    case $2 in
    cmdline) echo "${line#*cmdline=}" ;;
    *) echo "$line" | sed -n "s/.* $2=\([^ ]*\).*/\1/p" ;;
    esac
}

# power_on DISK VARS LOG ACTION BACKEND: boots once and waits for QEMU to exit, at most the
# deadline. Fails when QEMU fails or hits the deadline; what the guest did is in LOG.
power_on() {
    local status=0
    qemu_command "$@"
    timeout --kill-after=5 "$boot_deadline_seconds" "${qemu_argv[@]}" > "$3.qemu" 2>&1 || status=$?
    case $status in
    0) return 0 ;;
    124 | 137) echo "QEMU did not exit within ${boot_deadline_seconds}s" >> "$3.qemu"; return 1 ;;
    *) echo "QEMU exited with status $status" >> "$3.qemu"; return 1 ;;
    esac
}

# start_until_said DISK VARS LOG ACTION BACKEND PATTERN WHAT: starts QEMU in the background (its
# pid in qemu_pid) and waits until the serial log has a line matching the grep PATTERN. When QEMU
# exits or the deadline passes first, switches it off, notes that WHAT did not happen, and fails.
start_until_said() {
    local log=$3 pattern=$6 what=$7 deadline
    qemu_command "$1" "$2" "$3" "$4" "$5"
    "${qemu_argv[@]}" > "$log.qemu" 2>&1 &
    qemu_pid=$!
    deadline=$((SECONDS + boot_deadline_seconds))
    until serial_lines "$log" 2> /dev/null | grep -q -- "$pattern"; do
        if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$qemu_pid" 2> /dev/null; then
            kill -KILL "$qemu_pid" 2> /dev/null || true
            wait "$qemu_pid" 2> /dev/null || true
            echo "$what within ${boot_deadline_seconds}s" >> "$log.qemu"
            return 1
        fi
        sleep 0.2
    done
}

# power_on_until_said DISK VARS LOG ACTION BACKEND TEXT: a power-on in which the bootloader is
# expected to boot nothing: QEMU runs until the serial log holds TEXT (the bootloader saying so),
# until QEMU exits, or until the deadline, and is then switched off, since a bootloader with
# nothing to boot waits at its prompt. Fails unless TEXT came.
power_on_until_said() {
    start_until_said "$@" "the serial log never said '$6'" || return 1
    kill -KILL "$qemu_pid"
    wait "$qemu_pid" 2> /dev/null || true
}

# power_cut_during_flips DISK VARS LOG BACKEND: boots with the flip action and kills QEMU (a
# power cut: what the guest had not synced is lost) at a random moment after the guest started
# flipping and finished at least one round.
power_cut_during_flips() {
    local delay_ms
    start_until_said "$1" "$2" "$3" flip "$4" '^TANDEM-FLIP-ROUND 1$' "the guest did not start flipping" || return 1
    # The moment of the cut is the point of the test: anywhere within the next rounds. RANDOM
    # is seeded per scenario (power_cut_seed), so a run's delays can be replayed.
    delay_ms=$((RANDOM % 4000))
    sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
    kill -KILL "$qemu_pid"
    wait "$qemu_pid" 2> /dev/null || true
    echo "power cut ${delay_ms} ms after the first round" >> "$3.qemu"
}
