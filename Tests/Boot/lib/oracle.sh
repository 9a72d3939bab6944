# The oracles: the bootloader's own files on the ESP, read with tools Tandem did not write, in
# the state-line form of boot-state.sh.

# grubenv_oracle ESPDIR: GRUB's environment block as grub-editenv lists it (the variables the
# fragment reads: TANDEM_<slot>_PRIORITY, _TRIES and _GOOD).
grubenv_oracle() {
    local env slot line=() priority tries good
    env=$(grub-editenv "$1/tandem/grubenv" list) || { echo "grub-editenv cannot read the grubenv"; return; }
    for slot in A B; do
        priority=$(sed -n "s/^TANDEM_${slot}_PRIORITY=//p" <<< "$env")
        tries=$(sed -n "s/^TANDEM_${slot}_TRIES=//p" <<< "$env")
        good=$(sed -n "s/^TANDEM_${slot}_GOOD=//p" <<< "$env")
        line+=("$slot:p${priority:-?}:t${tries:-?}:$([ "$good" = 1 ] && echo good || echo -)")
    done
    echo "${line[*]} next=?"
}

# entries_oracle DISK: systemd-boot's entries as the FAT names them (mdir): tandem-<slot>.conf is
# good; tandem-<slot>+T[-D].conf has T tries left and is not good (systemd-boot's boot
# counting); no entry, not bootable. The order among entries is systemd-boot's to apply, so the
# oracle leaves priority and the next boot to the real boot.
entries_oracle() {
    local slot names name line=() state
    names=$(esp_names "$1" loader/entries)
    for slot in a b; do
        state="p?:t0:-"
        for name in $names; do
            case $name in
            "tandem-$slot.conf") state="p?:t0:good" ;;
            "tandem-$slot+"*.conf)
                name=${name#"tandem-$slot+"}
                state="p?:t${name%%[-.]*}:-" ;;
            esac
        done
        line+=("${slot^^}:$state")
    done
    echo "${line[*]} next=?"
}

# grub_recorded_boot ESPDIR: the slot GRUB's fragment recorded booting (TANDEM_BOOTED), A or B.
grub_recorded_boot() {
    grub-editenv "$1/tandem/grubenv" list | sed -n 's/^TANDEM_BOOTED=\([ab]\)$/\1/p' | tr ab AB
}
