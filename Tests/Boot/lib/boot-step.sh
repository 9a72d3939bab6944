# One checked boot of a scenario's disk: what the model predicts, the real boot, and the three
# views of the state afterwards. Prints the boot's serial lines that matter, so that a failure
# explains itself.

# The serial lines worth showing: the bootloader's and the guest's TANDEM- lines, errors, panics.
relevant_serial_lines() {
    serial_lines "$1" | grep -a -E 'TANDEM|tandem:|[Ee]rror|panic|BdsDxe: (loading|failed)|systemd-boot|Booting' \
        | grep -a -v -E '^\s*$' | cut -c1-220 | sed 's/^/      | /'
}

# checked_boot ACTION EXPECTED_SLOT: boots the scenario's disk once with the guest doing ACTION
# (poweroff, crash, bless, rollback) and checks that:
# - the model's next boot (disk next-boot, before) is EXPECTED_SLOT, and that slot booted, with
#   the version the scenario put in it (version_in), and the kernel command line naming it
#   (tandem.slot=, mount.usr=PARTUUID=);
# - afterwards Tandem's view (disk show --json) equals the model's prediction (next-boot
#   --commit and the guest's write, on a copy), and agrees with the oracle.
checked_boot() {
    local action=$1 expected_slot=$2 number log predicted before model after
    if [ "$expected_slot" = none ]; then
        checked_no_boot
        return
    fi
    number=$(( $(boots_so_far) + 1 ))
    log="$scenario_dir/boot-$number.serial"
    esp_pull "$disk" "$esp"
    before=$(tandem_view "$disk" "$esp")
    predicted=$(next_boot "$disk" "$esp")
    model=$(model_after_boot "$disk" "$esp" "$action")
    echo "  boot $number: $action; before: $before"
    count_boot
    power_on "$disk" "$vars" "$log" "$action" "$backend" || { relevant_serial_lines "$log"; cat "$log.qemu"; fail "boot $number did not end"; }
    relevant_serial_lines "$log"
    check_booted "$log" "$predicted" "$expected_slot"
    case $action in
    crash) serial_lines "$log" | grep -q '^TANDEM-CRASH' || fail "the guest did not crash as asked" ;;
    bless) serial_lines "$log" | grep -q '^TANDEM-BLESS rc=0 ' || fail "the guest's updatectl disk mark good failed" ;;
    rollback) serial_lines "$log" | grep -q '^TANDEM-ROLLBACK rc=0 ' || fail "the guest's rollback (disk prioritize) failed" ;;
    esac
    esp_pull "$disk" "$esp"
    if [ "$backend" = grub-env ]; then
        expect_equal "the boot GRUB recorded in the grubenv" "$(grub_recorded_boot "$esp")" "$expected_slot"
    fi
    after=$(tandem_view "$disk" "$esp")
    expect_equal "Tandem's view after the boot is the model's" "$after" "$model"
    check_oracle "$after"
    last_state=$after
    last_booted=$expected_slot
}

# The line each bootloader prints when it finds no slot to boot: Tandem's GRUB fragment
# (GrubFragment.swift), and systemd-boot 252 when it has no loadable entry.
nothing_to_boot_text() {
    case $backend in
    grub-env) echo 'tandem: no bootable slot' ;;
    systemd-boot) echo 'No loader found' ;;
    esac
}

# checked_no_boot: a power-on when the model says no slot can boot (disk next-boot fails): the
# bootloader must say it has nothing to boot, no slot may boot, and the state must not change.
checked_no_boot() {
    local number log before after
    number=$(( $(boots_so_far) + 1 ))
    log="$scenario_dir/boot-$number.serial"
    esp_pull "$disk" "$esp"
    before=$(tandem_view "$disk" "$esp")
    expect_equal "the model's next boot" "$(next_boot "$disk" "$esp")" none
    echo "  boot $number: no slot can boot; before: $before"
    count_boot
    power_on_until_said "$disk" "$vars" "$log" poweroff "$backend" "$(nothing_to_boot_text)" \
        || { relevant_serial_lines "$log"; cat "$log.qemu"; fail "boot $number: the bootloader never said it had nothing to boot"; }
    relevant_serial_lines "$log"
    if serial_lines "$log" | grep -q '^TANDEM-BOOT '; then
        fail "slot $(boot_field "$log" slot) booted although the model said no slot could"
    fi
    esp_pull "$disk" "$esp"
    after=$(tandem_view "$disk" "$esp")
    expect_equal "the state after a power-on that booted nothing" "$after" "$before"
    check_oracle "$after"
    last_state=$after
    last_booted=none
}

# repair_if_nothing_boots: when no slot can boot any more (a cut or a countdown left every slot
# bad or out of tries, on a bootloader that then boots nothing), checks that power-on, then
# repairs offline as an administrator would (slot A, which still holds version 1, marked good),
# so that the scenario goes on.
repair_if_nothing_boots() {
    [ "$(next_boot "$disk" "$esp")" = none ] || return 0
    [ "$last_booted" = none ] || checked_no_boot
    note "no slot can boot any more: the administrator marks slot A good offline"
    offline mark A good
}

# check_booted LOG PREDICTED EXPECTED_SLOT
check_booted() {
    local log=$1 predicted=$2 expected_slot=$3 slot cmdline
    slot=$(boot_field "$log" slot)
    [ -n "$slot" ] || fail "the guest never reported a boot"
    expect_equal "the model's next boot" "$predicted" "$expected_slot"
    expect_equal "the slot that booted (version $(boot_field "$log" version))" "$slot" "$expected_slot"
    expect_equal "the version in the booted slot" "$(boot_field "$log" version)" "${version_in[$slot]}"
    if [ "$backend" = systemd-boot ]; then
        case $(boot_field "$log" entry) in
        "tandem-${slot,,}.conf" | "tandem-${slot,,}+"*.conf) ;;
        *) fail "systemd-boot's LoaderEntrySelected is not slot $slot's entry: $(boot_field "$log" entry)" ;;
        esac
    fi
    cmdline=$(boot_field "$log" cmdline)
    case " $cmdline " in
    *" mount.usr=PARTUUID=${partuuid_of[$slot]} "*) ;;
    *) fail "the kernel command line does not carry mount.usr=PARTUUID=${partuuid_of[$slot]}: $cmdline" ;;
    esac
    case " $cmdline " in
    *" tandem.slot=${slot,,} "*) ;;
    *) fail "the kernel command line does not carry tandem.slot=${slot,,}: $cmdline" ;;
    esac
}

# check_oracle TANDEM_VIEW: the bootloader's own files, read without Tandem, say the same.
check_oracle() {
    local oracle
    oracle=$(oracle_view "$disk" "$esp")
    if agrees "$1" "$oracle"; then
        echo "    ok: the oracle agrees: $oracle"
    else
        fail "Tandem's view '$1' and the oracle's '$oracle' differ"
    fi
}

# cut_boot: boots the scenario's disk with the guest flipping the boot state over and over, cuts
# the power at a random moment (qemu-boot.sh), and boots the disk again as the cut left it: some
# slot must boot, the one Tandem predicts. When the cut left the ESP's FAT damaged (fsck.vfat),
# that is reported as a finding and the disk is booted as it is, the prediction made on a copy
# repaired as systemd-fsck would; the ESP is then repaired for the rest of the scenario.
cut_boot() {
    local number log predicted damage
    number=$(( $(boots_so_far) + 1 ))
    log="$scenario_dir/boot-$number.serial"
    esp_pull "$disk" "$esp"
    predicted=$(next_boot "$disk" "$esp")
    rm -rf "$scenario_dir/flip-start" && mkdir -p "$scenario_dir/flip-start"
    cp --sparse=always "$disk" "$scenario_dir/flip-start/disk.img"
    cp -a "$esp" "$scenario_dir/flip-start/esp"
    # The guest starts flipping from the state the bootloader left: its pick, a try used up.
    tandem "$scenario_dir/flip-start/disk.img" "$scenario_dir/flip-start/esp" next-boot --commit > /dev/null
    echo "  boot $number: flips until the power is cut; before: $(tandem_view "$disk" "$esp")"
    count_boot
    power_cut_during_flips "$disk" "$vars" "$log" "$backend" || { relevant_serial_lines "$log"; cat "$log.qemu"; fail "boot $number never started flipping"; }
    relevant_serial_lines "$log" | grep -v 'TANDEM-FLIP'
    note "$(tail -n1 "$log.qemu"), after $(serial_lines "$log" | grep -c '^TANDEM-FLIP-ROUND') complete rounds of 5 flips," \
        "during or after: $(serial_lines "$log" | grep '^TANDEM-FLIP ' | tail -n1 | cut -d' ' -f2-)"
    check_booted "$log" "$predicted" "$predicted"
    expected_flip_states "$log" "$predicted"
    damage=$(esp_damage "$disk")
    if [ -z "$damage" ]; then
        note "fsck.vfat -n: the ESP's FAT is sound after the cut"
        esp_pull "$disk" "$esp"
        check_flip_state "$(tandem_view "$disk" "$esp")"
        check_oracle "$(tandem_view "$disk" "$esp")"
        checked_boot poweroff "$(next_boot "$disk" "$esp")"
        repair_if_nothing_boots
    else
        echo "    FINDING: the power cut left the ESP's FAT damaged; fsck.vfat -n says:"
        sed 's/^/      # /' <<< "$damage"
        echo "FAT damaged by the power cut of boot $number" >> "$scenario_dir/findings"
        boot_damaged_esp
        check_flip_state "$last_state"
        # Booting was the first question; a file system Tandem's writes left damaged fails the
        # scenario all the same: its crash safety rests on the ESP's files.
        fail "the power cut of boot $number left the ESP's FAT damaged (see the FINDING above)"
    fi
}

# expected_flip_states LOG BOOTED: the states a cut during the guest's last announced flip may
# leave, in $scenario_dir/flip-states: before it or after it, and after the next one too, since
# the announcement of a flip may still have been on its way out of the serial port when the
# power went. The flips are replayed on the copy saved before the boot, after the bootloader's
# part.
expected_flip_states() {
    local announced states
    announced=$(serial_lines "$1" | grep -c '^TANDEM-FLIP ' || true)
    [ "$announced" -ge 1 ] || fail "the guest announced no flip"
    states=$(flip_states "$scenario_dir/flip-start/disk.img" "$scenario_dir/flip-start/esp" "$2" $((announced + 1)))
    sed -n "${announced},$((announced + 2))p" <<< "$states" > "$scenario_dir/flip-states"
    rm -rf "$scenario_dir/flip-start"
}

# check_flip_state STATE: the power cut left one of the states expected_flip_states allows, never
# a mixture or an older state.
check_flip_state() {
    if grep -qxF "$1" "$scenario_dir/flip-states"; then
        echo "    ok: the cut left the state before or after the flip it interrupted: $1"
    else
        echo "    the flip it interrupted passes from, to (or to after the next):"
        sed 's/^/      /' "$scenario_dir/flip-states"
        fail "the power cut left a state that the interrupted flip does not pass through: $1"
    fi
}

# boot_damaged_esp: boots the disk with its ESP as a power cut left it, then repairs the ESP.
boot_damaged_esp() {
    local number log repaired="$scenario_dir/repaired" predicted slot
    number=$(( $(boots_so_far) + 1 ))
    log="$scenario_dir/boot-$number.serial"
    rm -rf "$repaired" && mkdir -p "$repaired"
    cp --sparse=always "$disk" "$repaired/disk.img"
    esp_repair "$repaired/disk.img"
    esp_pull "$repaired/disk.img" "$repaired/esp"
    note "Tandem's view of the ESP as fsck.vfat -a repairs it: $(tandem_view "$repaired/disk.img" "$repaired/esp")"
    predicted=$(next_boot "$repaired/disk.img" "$repaired/esp")
    rm -rf "$repaired"
    echo "  boot $number: poweroff, from the damaged ESP as it is"
    count_boot
    power_on "$disk" "$vars" "$log" poweroff "$backend" || { relevant_serial_lines "$log"; cat "$log.qemu"; fail "boot $number did not end"; }
    relevant_serial_lines "$log"
    slot=$(boot_field "$log" slot)
    [ -n "$slot" ] || fail "after the power cut neither slot booted"
    check_booted "$log" "$predicted" "$slot"
    esp_repair "$disk"
    esp_pull "$disk" "$esp"
    last_state=$(tandem_view "$disk" "$esp")
    note "after fsck.vfat -a: $last_state"
    check_oracle "$last_state"
}
