#!/bin/sh
# cairn-ipe.sh POLICY.p7s: hand the signed policy to IPE and activate it (as examples/initramfs/init does).
set -e
ipe=/sys/kernel/security/ipe
[ -d $ipe ] || mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true
if [ ! -d $ipe ]; then
    echo "cairn-ipe: this kernel has no IPE ($ipe missing)" >&2
    exit 1
fi
before=$(ls $ipe/policies)
cat "$1" > $ipe/new_policy
for p in $ipe/policies/*; do
    n=${p##*/}
    case " $(echo $before) " in *" $n "*) continue ;; esac
    echo 1 > "$p/active"
    echo "cairn-ipe: IPE policy $n active"
done
