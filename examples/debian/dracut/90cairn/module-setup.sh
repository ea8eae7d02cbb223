#!/bin/bash
# dracut module "cairn" (examples/debian/initrd.sh): what a cairn DDI needs from a systemd initramfs
# beyond Debian's own systemd modules:
#  - cairn-ipe.service: loads the signed IPE policy cairn appends at /etc/ipe/policy.p7s and makes it the
#    active one before switch-root (skipped when the file is absent: a build without IPE);
#  - /etc/modules-load.d/cairn.conf: the kernel modules the booted host needs. The root file system
#    carries no /lib/modules, so everything the host will ever load (loop and overlay for
#    systemd-sysext, vfat for the ESP, ...) is loaded here, before switch-root.

check() {
    return 255
}

depends() {
    echo systemd systemd-initrd systemd-veritysetup systemd-modules-load
    return 0
}

install() {
    inst_multiple cat ls mount findmnt
    # systemd treats the initramfs as one only when /etc/initrd-release exists (dracut's base module,
    # left out here because its /init and shell hooks are not used with systemd as /init)
    mkdir -p "$initdir/usr/lib"
    grep -hE -v '^(VERSION|PRETTY_NAME)=' "$dracutsysrootdir"/etc/os-release > "$initdir/usr/lib/initrd-release"
    echo "PRETTY_NAME=\"cairn initrd (dracut-$DRACUT_VERSION)\"" >> "$initdir/usr/lib/initrd-release"
    ln -sf ../usr/lib/initrd-release "$initdir/etc/initrd-release"
    ln -sf initrd-release "$initdir/usr/lib/os-release"
    ln -sf ../usr/lib/initrd-release "$initdir/etc/os-release"
    inst_simple "$moddir/cairn-ipe.sh" /usr/lib/cairn/cairn-ipe.sh
    inst_simple "$moddir/cairn-ipe.service" "$systemdsystemunitdir/cairn-ipe.service"
    inst_simple "$moddir/modules-load.conf" /etc/modules-load.d/cairn.conf
    $SYSTEMCTL -q --root "$initdir" add-requires initrd.target cairn-ipe.service
}
