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

# entries_oracle DISK: systemd-boot's entries as the FAT names them (mdir) and loader.conf's
# `default` (mtype), read as docs/slots.md maps them: no entry (or one without a `linux` or `efi`
# line, which systemd-boot skips), priority 0; an entry without a
# counter is good; `+LEFT-DONE` has LEFT tries and is not good (systemd-boot's boot counting);
# when both slots have entries, the one `default` names comes first (priority 2, the other 1).
# Which entry boots is systemd-boot's own business: the real boot is the oracle for that.
entries_oracle() {
    local names first slot name line=() tries good priority
    names=$(esp_names "$1" loader/entries)
    first=$(mtype -i "$(esp_of "$1")" ::/loader/loader.conf 2> /dev/null \
        | sed -n 's/^[[:space:]]*default[[:space:]]\{1,\}tandem-\([ab]\)\[\.+\].*/\1/p' | tail -n1)
    for slot in a b; do
        tries=0 good=- priority=0
        for name in $names; do
            # systemd-boot skips an entry with no kernel to start (an empty file, say).
            mtype -i "$(esp_of "$1")" "::/loader/entries/$name" 2> /dev/null | grep -q -E '^(linux|efi) ' || continue
            case $name in
            "tandem-$slot.conf") good=good priority=1 ;;
            "tandem-$slot+"*.conf)
                name=${name#"tandem-$slot+"}
                tries=${name%%[-.]*} priority=1 ;;
            esac
        done
        if [ "$priority" = 1 ] && [ "$slot" = "$first" ] && grep -q "^tandem-$(other_slot "${slot^^}" | tr AB ab)[.+]" <<< "$names"; then
            priority=2
        fi
        line+=("${slot^^}:p$priority:t$tries:$good")
    done
    echo "${line[*]} next=?"
}

# grub_recorded_boot ESPDIR: the slot GRUB's fragment recorded booting (TANDEM_BOOTED), A or B.
grub_recorded_boot() {
    grub-editenv "$1/tandem/grubenv" list | sed -n 's/^TANDEM_BOOTED=\([ab]\)$/\1/p' | tr ab AB
}
