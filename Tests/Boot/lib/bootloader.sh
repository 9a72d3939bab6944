# The stock bootloaders, from Debian's packages, as the firmware's removable-media boot path
# (/EFI/BOOT/BOOTX64.EFI). Each reads only what `updatectl disk init-boot` and Tandem's writes
# put on the ESP.

readonly systemd_boot_efi=/usr/lib/systemd/boot/efi/systemd-bootx64.efi

# build_grub_efi OUT: stock GRUB (grub-efi-amd64-bin) as one EFI binary whose embedded early
# config talks on the serial port, finds the ESP by Tandem's fragment and sources it: the
# fragment (<ESP>/tandem/grub.cfg, from init-boot) makes the choice and saves the tries.
build_grub_efi() {
    local out=$1 early="$work/grub-early.cfg"
    cat > "$early" <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
if search --no-floppy --file --set=root /tandem/grub.cfg; then
    echo "TANDEM-GRUB sourcing ($root)/tandem/grub.cfg"
    source ($root)/tandem/grub.cfg
else
    echo "TANDEM-GRUB-ERROR no ESP holds /tandem/grub.cfg"
fi
echo "TANDEM-GRUB-ERROR the fragment booted nothing"
halt
CFG
    grub-mkstandalone -O x86_64-efi -o "$out" \
        --modules="part_gpt fat search search_fs_file normal linux loadenv echo test configfile serial terminal halt" \
        --locales= --fonts= --themes= \
        "boot/grub/grub.cfg=$early"
}

# bootloader_efi BACKEND OUT
bootloader_efi() {
    case $1 in
    grub-env) build_grub_efi "$2" ;;
    systemd-boot) cp "$systemd_boot_efi" "$2" ;;
    *) fail "no bootloader for backend $1" ;;
    esac
}
