# The slots' boot state three ways: Tandem's view (`updatectl disk show --json` through the
# backend), the model's prediction (`disk next-boot --commit` on a copy, which is what the
# bootloader is configured to do), and the oracle's (the bootloader's own files read with tools
# Tandem did not write: grub-editenv, the FAT's file names). A state is one line,
# `A:p<priority>:t<tries>:<good|-> B:... next=<A|B|none>`; an oracle writes `?` for what its
# files do not say.

# tandem DISK ESPDIR SUBCOMMAND ARGS...: updatectl's disk command on the backend under test.
tandem() {
    local disk=$1 esp=$2 subcommand=$3
    shift 3
    "$updatectl" disk "$subcommand" "$disk" --backend "$backend" --esp "$esp" "$@"
}

# tandem_view DISK ESPDIR
tandem_view() {
    tandem "$1" "$2" show --json | jq -r '
        ([.slots[] | "\(.name):p\(.priority):t\(.tries):\(if .successful then "good" else "-" end)"]
         + ["next=\(.nextBoot // "none")"]) | join(" ")'
}

# next_boot DISK ESPDIR: the slot the model says boots next, or none.
next_boot() {
    tandem "$1" "$2" next-boot --json 2> /dev/null | jq -r '.slot // "none"' || echo none
}

# model_after_boot DISK ESPDIR ACTION: the state the model predicts after one boot in which the
# guest does ACTION: the bootloader's pick and try (next-boot --commit), then the guest's own
# write, if any (bless: mark the booted slot good; rollback: prioritize the other slot).
model_after_boot() {
    local disk=$1 esp=$2 action=$3 model="$scenario_dir/model" booted
    rm -rf "$model" && mkdir -p "$model"
    cp --sparse=always "$disk" "$model/disk.img"
    cp -a "$esp" "$model/esp"
    booted=$(tandem "$model/disk.img" "$model/esp" next-boot --commit --json | jq -r .slot)
    case $action in
    bless) tandem "$model/disk.img" "$model/esp" mark "$booted" good > /dev/null ;;
    rollback) tandem "$model/disk.img" "$model/esp" prioritize "$(other_slot "$booted")" > /dev/null ;;
    esac
    tandem_view "$model/disk.img" "$model/esp"
    rm -rf "$model"
}

# flip_states DISK ESPDIR BOOTED COUNT: the states the guest's flips (guest/flips, cycled) pass
# through from the current one: COUNT + 1 lines, the current state first, then the state after
# each flip.
flip_states() {
    local model="$scenario_dir/flips" other count=0 line
    other=$(other_slot "$3")
    rm -rf "$model" && mkdir -p "$model"
    cp --sparse=always "$1" "$model/disk.img"
    cp -a "$2" "$model/esp"
    tandem_view "$model/disk.img" "$model/esp"
    while [ "$count" -lt "$4" ]; do
        while read -r line && [ "$count" -lt "$4" ]; do
            # shellcheck disable=SC2046 # the words of the line are the arguments
            tandem "$model/disk.img" "$model/esp" $(sed "s/OTHER/$other/g; s/BOOTED/$3/g" <<< "$line") < /dev/null > /dev/null
            tandem_view "$model/disk.img" "$model/esp" < /dev/null
            count=$((count + 1))
        done < "$boot_test_dir/guest/flips"
    done
    rm -rf "$model"
}

other_slot() { if [ "$1" = A ]; then echo B; else echo A; fi; }

# oracle_view DISK ESPDIR: the state as the bootloader's own files say it (oracle.sh).
oracle_view() {
    case $backend in
    grub-env) grubenv_oracle "$2" ;;
    systemd-boot) entries_oracle "$1" ;;
    esac
}

# agrees TANDEM ORACLE: whether the views agree wherever the oracle says something.
agrees() {
    local -a ours theirs
    read -r -a ours <<< "${1//:/ }"
    read -r -a theirs <<< "${2//:/ }"
    [ "${#ours[@]}" = "${#theirs[@]}" ] || return 1
    local i
    for i in "${!ours[@]}"; do
        case ${theirs[$i]} in
        *'?'*) ;;
        *) [ "${ours[$i]}" = "${theirs[$i]}" ] || return 1 ;;
        esac
    done
}
