#!/bin/bash
# Disassemble Hostel's ACPI tables with ACPICA's iasl (Debian package
# acpica-tools): the AML must decode without errors and say what Hostel
# means it to. Skips (77) when iasl is not installed.
set -u
dump=$1
iasl=$(command -v iasl) || { echo "iasl not installed (apt-get install acpica-tools): skipped"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$dump" 2 "$dir" || { echo "FAIL: acpi-dump"; exit 1; }
fails=0
for f in "$dir"/*.dat; do
    if ! out=$("$iasl" -d "$f" 2>&1) || grep -qiE "error|could not" <<<"$out"; then
        echo "FAIL: iasl could not disassemble $(basename "$f"):"
        echo "$out" | tail -5
        fails=$((fails + 1))
    fi
done
dsl=$dir/DSDT.dsl
want=(
    'Device \(PCI0\)' 'Name \(_HID, EisaId \("PNP0A03"\)' 'Method \(_PRT, 0'
    'Package \(0x04\)' 'Name \(_HID, EisaId \("PNP0303"\)' 'Name \(_HID, EisaId \("PNP0F13"\)'
    'Name \(_HID, EisaId \("PNP0501"\)' 'Name \(_HID, EisaId \("PNP0B00"\)' 'Name \(_HID, EisaId \("PNP0103"\)'
    'IO \(Decode16' 'WordBusNumber' 'DWordMemory' 'Memory32Fixed \(ReadWrite' 'Name \(_S5, Package \(0x04\)'
    'Method \(_PIC, 1'
)
for w in "${want[@]}"; do
    if ! grep -qE "$w" "$dsl"; then
        echo "FAIL: the disassembled DSDT lacks /$w/"
        fails=$((fails + 1))
    fi
done
# The APIC-mode routing of slot 1 INTA is PIRQA on GSI 16, slot 2 INTA PIRQB (17).
grep -A7 'Name (PRTA' "$dsl" | grep -q '0x10' || { echo "FAIL: PRTA does not start with GSI 16"; fails=$((fails + 1)); }
grep -qE 'Processor|Local APIC' "$dir/APIC.dsl" || { echo "FAIL: MADT without local APICs"; fails=$((fails + 1)); }
[ "$fails" = 0 ] && echo "ok: iasl decodes DSDT, FACP, APIC, XSDT as intended"
exit $((fails > 0))
