#!/bin/bash
# Decode Hostel's SMBIOS tables with dmidecode (Debian package dmidecode),
# from a --dump-bin file written by smbios-dump: the tables must decode
# without warnings and say what Hostel means them to. Skips (77) when
# dmidecode is not installed.
set -u
dump=$1
dmidecode=$(command -v dmidecode || ls /usr/sbin/dmidecode /sbin/dmidecode 2>/dev/null | head -1)
[ -n "$dmidecode" ] && [ -x "$dmidecode" ] || { echo "dmidecode not installed (apt-get install dmidecode): skipped"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
fail() { echo "FAIL ($1): $2"; fails=$((fails + 1)); }

# NCPUS MIB_BELOW_4G MIB_ABOVE_4G, then the sizes dmidecode should print.
check() {
    local name="$1 CPUs, $2+$3 MiB" file="$dir/dump-$1-$2-$3.bin" out
    "$dump" "$1" "$2" "$3" "$file" || { fail "$name" "smbios-dump"; return; }
    if ! out=$("$dmidecode" --from-dump "$file" 2>&1); then
        fail "$name" "dmidecode exited with an error:"
        echo "$out" | tail -5
        return
    fi
    if grep -qiE "wrong|invalid|bad index|truncated|out of spec|broken|unknown type|not fully supported" <<<"$out"; then
        fail "$name" "dmidecode warns:"
        grep -iE "wrong|invalid|bad index|truncated|out of spec|broken|unknown type|not fully supported" <<<"$out" | head -5
    fi
    grep -q "^SMBIOS 2.8 present" <<<"$out" || fail "$name" "no 'SMBIOS 2.8 present'"
    local sys
    sys=$(grep -A8 "^System Information" <<<"$out")
    grep -q "Manufacturer: Hostel$" <<<"$sys" || fail "$name" "system manufacturer"
    grep -q "Product Name: Hostel Virtual Machine$" <<<"$sys" || fail "$name" "system product"
    grep -q "Family: Virtual Machine$" <<<"$sys" || fail "$name" "system family"
    grep -qi "UUID: 01234567-89ab-cdef-0123-456789abcdef$" <<<"$sys" || fail "$name" "UUID byte order"
    grep -A30 "^BIOS Information" <<<"$out" | grep -q "System is a virtual machine" ||
        fail "$name" "BIOS characteristics lack 'System is a virtual machine'"
    grep -A30 "^BIOS Information" <<<"$out" | grep -q "PCI is supported" || fail "$name" "BIOS: no PCI"
    local n
    n=$(grep -c "^Processor Information" <<<"$out")
    [ "$n" = "$1" ] || fail "$name" "$n Processor Information records, want $1"
    n=$(grep -c "Socket Designation: CPU " <<<"$out")
    [ "$n" = "$1" ] || fail "$name" "$n CPU sockets, want $1"
    grep -q "^Memory Device" <<<"$out" || fail "$name" "no Memory Device"
    grep -A6 "^Memory Device" <<<"$out" | grep -qE "^\s+Size: $4$" || fail "$name" "memory device size is not '$4'"
    grep -A3 "^Physical Memory Array" <<<"$out" | grep -q "Use: System Memory" || fail "$name" "memory array use"
    grep -q "^Memory Array Mapped Address" <<<"$out" || fail "$name" "no Memory Array Mapped Address"
    grep -A2 "^Memory Array Mapped Address" <<<"$out" | grep -qE "Starting Address: 0x0+$" ||
        fail "$name" "no range from 0"
    if [ "$3" != 0 ]; then
        grep -A2 "^Memory Array Mapped Address" <<<"$out" | grep -qE "Starting Address: 0x0*100000000k?$" ||
            fail "$name" "no range from 4 GiB"
        grep -A3 "^Memory Array Mapped Address" <<<"$out" | grep -qE "Range Size: $5$" ||
            fail "$name" "high range size is not '$5'"
    fi
    grep -q "^System Boot Information" <<<"$out" || fail "$name" "no System Boot Information"
    grep -A2 "^System Boot Information" <<<"$out" | grep -q "Status: No errors detected" || fail "$name" "boot status"
    grep -q "^End Of Table" <<<"$out" || fail "$name" "no End Of Table"
}

check 1 1024 0 "1 GB"
check 2 3072 1024 "4 GB" "1 GB"
check 8 3072 62464 "64 GB" "61 GB"
# Past 4 TiB the range needs the extended (byte) addresses, which
# dmidecode 3.4 prints with a stray "k".
check 1 2048 8388608 "8194 GB" "8 TB"
[ "$fails" = 0 ] && echo "ok: dmidecode decodes the SMBIOS tables for 1, 2 and 8 CPUs as intended"
exit $((fails > 0))
