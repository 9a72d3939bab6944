# The scenarios, each on its own copy of the backend's prepared disk (A holds version 1, good and
# first; B unbootable; the bootloader's files from `updatectl disk init-boot`). Every boot is a
# checked_boot or a cut_boot (boot-step.sh); every offline change goes through updatectl.

readonly scenarios="trial-1 trial-3 bless marks last-try power-cut"
readonly power_cuts=${TANDEM_BOOT_POWER_CUTS:-2}
# The power cuts' delays come from bash's RANDOM seeded with this, printed with the scenario's
# results: TANDEM_BOOT_SEED=N replays a run's cut delays (the guest's speed under TCG still varies,
# so where a cut lands can too; the last-try scenario pins down the path a cut found once).
readonly power_cut_seed=${TANDEM_BOOT_SEED:-$((($(date +%s) + $$) % 32768))}

# prepare_backend BACKEND: the disk every scenario of BACKEND starts from, and its firmware
# variables.
prepare_backend() {
    local base="$work/$backend/base" esp="$work/$backend/base/esp" loader="$work/$backend/BOOTX64.EFI"
    mkdir -p "$base"
    bootloader_efi "$backend" "$loader"
    create_disk "$base/disk.img" "$loader" "$guest_kernel" "$guest_initrd"
    esp_pull "$base/disk.img" "$esp"
    "$updatectl" disk init-boot "$base/disk.img" --backend "$backend" --esp "$esp" --kernel-options "console=ttyS0 quiet" \
        | sed 's/^/    init-boot: /'
    esp_push "$base/disk.img" "$esp"
    cp "$ovmf_vars" "$base/vars.fd"
}

# prepare_scenario: the scenario's own copy of the prepared disk and variables.
prepare_scenario() {
    disk="$scenario_dir/disk.img" vars="$scenario_dir/vars.fd" esp="$scenario_dir/esp"
    cp --sparse=always "$work/$backend/base/disk.img" "$disk"
    cp "$work/$backend/base/vars.fd" "$vars"
    declare -g -A version_in=([A]=1 [B]=none)
    last_booted=""
}

# offline SUBCOMMAND ARGS...: an updatectl disk command on the scenario's disk, as an image
# builder or an administrator would run it with the disk's ESP mounted.
offline() {
    esp_pull "$disk" "$esp"
    echo "  updatectl disk $*"
    tandem "$disk" "$esp" "$@" | sed 's/^/    | /'
    esp_push "$disk" "$esp"
}

# install_into_b VERSION TRIES: the signed bundle of VERSION, installed offline into B.
install_into_b() {
    offline install "$bundles/v$1.tandem" --keys "$bundles/keys.d" --booted-slot A --tries "$2" \
        --compatible tandem-boot-test --current-version 1 --state-dir "$scenario_dir/state"
    version_in[B]=$1
}

# 1. A trial with one try: B boots once, crashes, and the bootloader falls back to A.
scenario_trial_1() {
    install_into_b 2 1
    checked_boot crash B
    checked_boot poweroff A
}

# 1. A trial with three tries: B, B, B, then A.
scenario_trial_3() {
    install_into_b 3 3
    checked_boot crash B
    checked_boot crash B
    checked_boot crash B
    checked_boot poweroff A
}

# 2. The guest blesses its trial boot (updatectl disk mark good, in the guest): B keeps booting,
# and a boot of the blessed slot uses up no try.
scenario_bless() {
    local blessed
    install_into_b 4 1
    checked_boot bless B
    blessed=$last_state
    checked_boot poweroff B
    expect_equal "the state after a boot of the blessed slot (no try used)" "$last_state" "$blessed"
}

# 3. A rollback from the running system, prioritize and mark bad each give the boot the model
# predicts. B starts blessed (installed and marked good offline; the guest's blessing is
# scenario 2's).
scenario_marks() {
    install_into_b 4 1
    offline mark B good
    checked_boot rollback B
    checked_boot poweroff A
    offline prioritize B
    checked_boot poweroff B
    offline mark B bad
    checked_boot poweroff A
}

# 4. The last try of the only slot that can boot: B on trial with one try, A marked bad. The boot
# that uses B's try leaves it out of tries, and there the bootloaders differ, as the model must
# say: GRUB (gptprio.next) boots nothing, systemd-boot boots B's +0 entry as a last resort
# without a try to use. Marking A good offline, as an administrator would, boots A again.
scenario_last_try() {
    install_into_b 2 1
    offline mark A bad
    checked_boot crash B
    case $backend in
    grub-env) checked_boot poweroff none ;;
    systemd-boot)
        checked_boot crash B
        expect_equal "the boot of an entry out of tries (no try used)" "$(tandem_view "$disk" "$esp")" "A:p0:t0:- B:p1:t0:- next=B"
        ;;
    esac
    offline mark A good
    checked_boot poweroff A
}

# 5. Power cuts while the guest flips the boot state: afterwards a slot still boots, the one the
# model predicts (cut_boot).
scenario_power_cut() {
    local cut
    install_into_b 5 1
    offline mark B good
    note "the cuts' delays: TANDEM_BOOT_SEED=$power_cut_seed"
    RANDOM=$power_cut_seed
    for cut in $(seq "$power_cuts"); do
        cut_boot
    done
}
