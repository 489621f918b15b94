#!/bin/bash
# Run a program that needs KVM, on any x86-64 Linux machine.
#
# Usage: kvm-run.sh [OPTIONS] -- COMMAND [ARGS...]
#   --smp N                  L1 vCPUs (default 1; see below)
#   --mem MIB                L1 memory in MiB (default 2048)
#   --timeout SEC            give up on L1 after SEC seconds (default 300)
#   --copy HOST[:GUEST]      copy a file or directory into L1, at GUEST (default:
#                            the same absolute path as on the host); ELF files
#                            bring their shared libraries and loader along.
#                            Repeatable. A COMMAND given as a path that exists
#                            on the host is copied without being asked.
#   --env NAME[=VALUE]       pass an environment variable into L1 (repeatable)
#   --verbose                also show L1's boot console and kernel log (stderr)
#   -h, --help
#
# If /dev/kvm can be opened read-write here (and HOSTEL_FORCE_NESTED is not 1),
# COMMAND is simply executed, with stdin from /dev/null.
#
# Otherwise it runs inside "L1": a small Linux VM under QEMU's TCG (pure
# software emulation) with an emulated AMD SVM CPU, in which Debian's kvm and
# kvm_amd modules load and provide a real /dev/kvm. L1 is Debian's cloud kernel
# and busybox (fetched by tests/setup/fetch-debian.sh into the cache), plus the
# copied files. COMMAND runs in L1 with the host's working directory (created
# empty if not copied), stdin from /dev/null, stdout and stderr both on the L1
# console (ttyS0), which is streamed to this script's stdout without the boot
# noise. L1's kernel logs to a second serial port (ttyS1), kept apart: shown
# when L1 fails, and its warnings / oopses are summed up on stderr. Timings go
# to stderr. HOSTEL_NESTED=1 is set inside L1. About 30 s before the timeout a
# watchdog in L1 prints where COMMAND's threads are stuck in the kernel.
#
# Exit status: COMMAND's; 77 (skip) when neither /dev/kvm nor QEMU / the L1
# kernel is available; 125 when L1 died or timed out before COMMAND finished
# (with the console's and the kernel log's last lines); 2 on a usage error.
#
# Environment: HOSTEL_CACHE (cache directory, see fetch-debian.sh),
# HOSTEL_FORCE_NESTED=1 (use L1 even when /dev/kvm works here),
# HOSTEL_NESTED_CPU (QEMU -cpu for L1, default qemu64,+svm,+npt),
# HOSTEL_NESTED_LOGLEVEL (L1 kernel's console loglevel, default 7),
# HOSTEL_NESTED_TCG_THREAD (single, the default, or multi: see below).
set -euo pipefail

ME=kvm-run
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FETCH=$HERE/../setup/fetch-debian.sh
CACHE=${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}

# One L1 vCPU by default: with two, QEMU's multi-threaded TCG froze L1 about
# once per 50 VM create/destroy cycles (both CPUs looping in the int3 handler
# of live code patching), and single-threaded TCG hung a 2-vCPU L2 Linux at
# AP bring-up. With one L1 vCPU, L2 SMP guests still work: L1's scheduler
# runs their vCPU threads in turn.
SMP=1
MEM=2048
TIMEOUT=300
VERBOSE=0
COPIES=()
ENVS=()

usage() { sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
usage_error() { echo "$ME: $*" >&2; echo "usage: kvm-run.sh [OPTIONS] -- COMMAND [ARGS...]  (see --help)" >&2; exit 2; }
skip() { echo "$ME: SKIP: $*" >&2; exit 77; }
need_number() { [[ $2 =~ ^[1-9][0-9]*$ ]] || usage_error "$1 wants a positive number, not '$2'"; }

while [ $# -gt 0 ]; do
    opt=$1
    case "$opt" in
    --smp|--mem|--timeout|--copy|--env)
        [ $# -ge 2 ] || usage_error "$opt needs a value"
        val=$2
        shift 2 ;;
    --*=*)
        val=${opt#*=}
        opt=${opt%%=*}
        shift ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;  # COMMAND without a leading --
    esac
    case "$opt" in
    --smp) need_number "$opt" "$val"; SMP=$val ;;
    --mem) need_number "$opt" "$val"; MEM=$val ;;
    --timeout) need_number "$opt" "$val"; TIMEOUT=$val ;;
    --copy) [ -n "$val" ] || usage_error "--copy needs a path"; COPIES+=("$val") ;;
    --env) [[ $val =~ ^[A-Za-z_][A-Za-z0-9_]*(=.*)?$ ]] || usage_error "bad --env '$val'"
           ENVS+=("$val") ;;
    --verbose) VERBOSE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option '$opt'" ;;
    esac
done
[ $# -gt 0 ] || usage_error "no COMMAND given"

# --- the easy way: KVM right here --------------------------------------------

kvm_usable() {
    # -c first: bash's <> creates a missing file.
    [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null
}

if [ "${HOSTEL_FORCE_NESTED:-0}" != 1 ] && kvm_usable; then
    for e in "${ENVS[@]}"; do
        case "$e" in *=*) export "${e?}" ;; esac
    done
    exec "$@" </dev/null
fi

# --- the long way: KVM inside an emulated L1 ---------------------------------

T0=$EPOCHREALTIME
command -v qemu-system-x86_64 >/dev/null ||
    skip "no usable /dev/kvm and qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"

KSTAMP=$CACHE/debian/linux-cloud/.hostel-stamp
BSTAMP=$CACHE/debian/busybox/.hostel-stamp
if [ ! -f "$KSTAMP" ] || [ ! -f "$BSTAMP" ]; then
    "$FETCH" linux-cloud busybox >&2 || skip "cannot fetch the L1 kernel and busybox (see above)"
fi
stamp() {  # stamp FILE NAME: a variable from a fetch-debian.sh stamp
    # shellcheck source=/dev/null
    (. "$1" && printf '%s\n' "${!2}")
}
KVER=$(stamp "$KSTAMP" KVER)
KVERSION=$(stamp "$KSTAMP" VERSION)
BVERSION=$(stamp "$BSTAMP" VERSION)
KDIR=$CACHE/debian/linux-cloud
VMLINUZ=$KDIR/boot/vmlinuz-$KVER
MODDIR=$KDIR/lib/modules/$KVER/kernel
BUSYBOX=$CACHE/debian/busybox/bin/busybox
[ -r "$VMLINUZ" ] && [ -x "$BUSYBOX" ] || skip "the cached L1 kernel or busybox is incomplete; remove $CACHE/debian and retry"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvm-run.XXXXXX")
QPID=
# shellcheck disable=SC2317  # invoked by trap
cleanup() {
    trap '' INT TERM  # a second signal must not cut the cleanup short
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill "$QPID" 2>/dev/null || true
        wait "$QPID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# cpio writer: busybox's (fetched anyway), so the host needs no cpio.
# Owner root, entries sorted for reproducible archives; reads paths under $1.
# hostel/complete, if present, goes last: L1 finds it only if the kernel
# unpacked the whole archive (it stops silently when memory runs out).
mkcpio() {
    (cd "$1" && {
        find . -mindepth 1 ! -path ./hostel/complete | LC_ALL=C sort
        [ ! -e hostel/complete ] || echo ./hostel/complete
    } | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null)
}

# --- L1 base initramfs: busybox, kvm modules, /init (cached) -----------------

# kvm-amd options: nested SVM for L2 is not needed and only adds work.
# kvm force_emulation_prefix=1: the prefix "ud2; .ascii \"kvm\"" makes KVM
# emulate the next instruction, so test guests can drive KVM into the
# emulation failures that Hostel's instruction assist handles.
L1_INIT=$(cat <<'EOF'
#!/bin/sh
# L1 init, written by tests/nested/kvm-run.sh.
/hostel/bin/busybox --install -s /hostel/bin
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/hostel/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# ttyS0 carries the markers and COMMAND's output; the kernel logs to ttyS1.
exec >/dev/ttyS0 2>&1
mkdir -p /dev/shm /dev/pts /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs -o mode=755 tmpfs /run
# /tmp gets its own tmpfs unless files were copied there (rootfs is writable anyway).
[ -n "$(ls -A /tmp 2>/dev/null)" ] || mount -t tmpfs -o mode=1777 tmpfs /tmp
if [ ! -e /hostel/complete ]; then
    echo "L1: the initramfs was not unpacked completely: give L1 more memory (--mem)"
    poweroff -f
fi
. /hostel/config
for m in irqbypass "kvm force_emulation_prefix=1" "kvm-amd npt=1 nested=0"; do
    set -- $m
    mod=$1; shift
    insmod /hostel/modules/$mod.ko "$@" || echo "L1: insmod $mod failed"
done
if [ ! -c /dev/kvm ] && [ -r /sys/class/misc/kvm/dev ]; then
    mm=$(cat /sys/class/misc/kvm/dev)
    mknod /dev/kvm c "${mm%%:*}" "${mm##*:}"
fi
# Where a hung COMMAND is stuck, before the host's timeout kills L1.
hang_report() {
    echo "L1 watchdog: COMMAND still running after $WATCHDOG s; its threads' kernel stacks:"
    for t in /proc/$1/task/*; do
        echo "  $(cat $t/comm) tid ${t##*/} state $(cut -d' ' -f3 $t/stat)"
        sed 's/^/    /' $t/stack
    done
    mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
    k=/sys/kernel/debug/kvm
    for i in 1 2; do
        echo "L1 watchdog: KVM counters: exits $(cat $k/exits) halt_exits $(cat $k/halt_exits)" \
             "io_exits $(cat $k/io_exits) mmio_exits $(cat $k/mmio_exits)" \
             "pf_taken $(cat $k/pf_taken) irq_exits $(cat $k/irq_exits)"
        [ $i = 2 ] || sleep 1
    done 2>/dev/null
}
if [ -c /dev/kvm ]; then
    echo "@@HOSTEL-L1 $TOKEN START $(cut -d' ' -f1 /proc/uptime)@@"
    sh /hostel/run.sh </dev/null &
    pid=$!
    wpid=
    if [ "$WATCHDOG" -gt 0 ]; then
        (sleep "$WATCHDOG"; hang_report $pid) &
        wpid=$!
    fi
    wait $pid
    rc=$?
    [ -z "$wpid" ] || kill $wpid 2>/dev/null
else
    echo "L1: /dev/kvm did not appear; kernel log:"
    dmesg | tail -n 20
    rc=125
fi
echo "@@HOSTEL-L1 $TOKEN EXIT $rc@@"
# Let the serial port drain; the host stops QEMU once it has seen the marker.
sleep 1
poweroff -f
EOF
)

find_module() {  # find_module RELPATH -> unpacks into $2 (handles .xz / .zst)
    local f=$MODDIR/$1
    if [ -f "$f" ]; then cp "$f" "$2"
    elif [ -f "$f.xz" ]; then xz -dc "$f.xz" > "$2"
    elif [ -f "$f.zst" ]; then zstd -qdc "$f.zst" > "$2"
    else return 1; fi
}

BASE_KEY=$({ printf '%s\n' "$L1_INIT" "$KVER" "$KVERSION" "$BVERSION"; } | sha256sum | cut -c1-16)
BASE=$CACHE/nested/base-$BASE_KEY.cpio.gz
if [ ! -f "$BASE" ]; then
    mkdir -p "$CACHE/nested"
    b=$WORK/base
    mkdir -p "$b"/{hostel/bin,hostel/modules,bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root}
    cp "$BUSYBOX" "$b/hostel/bin/busybox"
    ln -s ../hostel/bin/busybox "$b/bin/sh"
    for m in virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko arch/x86/kvm/kvm-amd.ko; do
        find_module "$m" "$b/hostel/modules/${m##*/}" ||
            skip "the L1 kernel $KVER has no module $m"
    done
    printf '%s\n' "$L1_INIT" > "$b/init"
    chmod 755 "$b/init"
    mkcpio "$b" | gzip -1 > "$WORK/base.cpio.gz"
    # The kernel reads the next (uncompressed) archive only at a 4-byte boundary.
    size=$(stat -c %s "$WORK/base.cpio.gz")
    head -c $(( (4 - size % 4) % 4 )) /dev/zero >> "$WORK/base.cpio.gz"
    mv -f "$WORK/base.cpio.gz" "$BASE"
    # Drop bases of older init scripts / kernels, if unused for a day.
    find "$CACHE/nested" -maxdepth 1 -name 'base-*.cpio.gz' ! -name "${BASE##*/}" -mtime +1 -delete 2>/dev/null || true
fi

# --- per-run archive: copied files, their libraries, config, run script ------

R=$WORK/run
mkdir -p "$R/hostel"
LIBDIRS=()

abspath() {  # absolute and normalized, without resolving symlinks
    realpath -s -m -- "$1"
}

is_elf() {  # without a fork per file: directories may hold many
    local magic
    LC_ALL=C read -r -n 4 magic < "$1" 2>/dev/null
    [ "$magic" = $'\x7fELF' ]
}

add_libs() {  # add_libs ELF: copy the shared libraries and loader it needs
    local out lib dir libs=() new=()
    # On the host file, where $ORIGIN still means what it should.
    # ldd fails on static executables: nothing to add then.
    out=$(ldd "$1" 2>/dev/null) || return 0
    if grep -q 'not found' <<<"$out"; then
        echo "$ME: warning: $1: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')" >&2
    fi
    mapfile -t libs < <(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' <<<"$out" |
                        xargs -r realpath -s -m --)
    for lib in "${libs[@]}"; do
        [ -e "$R$lib" ] || new+=("$lib")
        dir=${lib%/*}
        case "$dir" in
        /lib|/lib64|/usr/lib|/usr/lib64|/lib/x86_64-linux-gnu|/usr/lib/x86_64-linux-gnu) ;;
        *) LIBDIRS+=("$dir") ;;
        esac
    done
    [ ${#new[@]} = 0 ] || cp -L --parents -t "$R" -- "${new[@]}"
}

copy_in() {  # copy_in HOST GUEST
    local host=$1 guest=$2 f
    [ -e "$host" ] || usage_error "--copy: $host does not exist"
    mkdir -p "$R${guest%/*}"
    if [ -d "$host" ]; then
        mkdir -p "$R$guest"
        cp -RL --preserve=mode,timestamps "$host/." "$R$guest/"
        while IFS= read -r -d '' f; do
            f=${f#./}
            if is_elf "$R$guest/$f"; then add_libs "$host/$f"; fi
        done < <(cd "$R$guest" && find . -type f -print0)
    else
        cp -L --preserve=mode,timestamps "$host" "$R$guest"
        if is_elf "$host"; then add_libs "$host"; fi
    fi
}

for c in "${COPIES[@]}"; do
    case "$c" in
    *:*) host=${c%%:*}; guest=${c#*:} ;;
    *) host=$c; guest= ;;
    esac
    host=$(abspath "$host")
    guest=$(abspath "${guest:-$host}")
    copy_in "$host" "$guest"
done
# COMMAND given as a host path and not copied yet: copy it.
case "$1" in
*/*) cmd=$(abspath "$1")
     if [ ! -e "$R$cmd" ] && [ -f "$cmd" ]; then copy_in "$cmd" "$cmd"; fi ;;
esac
mkdir -p "$R$PWD"

sq() {  # quote for sh, newlines included
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
# L1's clock follows the host's under TCG: report a hang ~20 s before the
# host's timeout (which also counts the boot), if that leaves a useful time.
WATCHDOG=$(( TIMEOUT >= 60 ? TIMEOUT - 20 - 10 : 0 ))
printf 'TOKEN=%s\nWATCHDOG=%s\n' "$TOKEN" "$WATCHDOG" > "$R/hostel/config"
{
    echo "# COMMAND for L1, written by kvm-run.sh"
    echo "cd $(sq "$PWD") || exit 125"
    echo "export HOSTEL_NESTED=1"
    if [ ${#LIBDIRS[@]} -gt 0 ]; then
        # Libraries from outside the system directories (a build tree, found
        # through $ORIGIN RUNPATHs): in case a GUEST path moved a binary away.
        ld=$(printf '%s\n' "${LIBDIRS[@]}" | awk '!seen[$0]++' | paste -sd:)
        echo "export LD_LIBRARY_PATH=$(sq "$ld")"
    fi
    for e in "${ENVS[@]}"; do
        name=${e%%=*}
        if [[ $e == *=* ]]; then
            echo "export $name=$(sq "${e#*=}")"
        elif [ -n "${!name+set}" ]; then
            echo "export $name=$(sq "${!name}")"
        fi
    done
    printf 'exec'
    for a in "$@"; do printf ' %s' "$(sq "$a")"; done
    printf '\n'
} > "$R/hostel/run.sh"

: > "$R/hostel/complete"
INITRD=$WORK/initrd
{ cat "$BASE"; mkcpio "$R"; } > "$INITRD"

# --- boot L1 and stream its console ------------------------------------------

# thread=single: one host thread runs all L1 vCPUs in turn. With multi-threaded
# TCG (the default for -smp > 1), L1 froze about once in 50 KVM VM create/destroy
# cycles, both CPUs looping on int3 in exc_int3: KVM toggles static keys, the
# kernel live-patches its code through int3 (text_poke_bp), and another TCG vCPU
# kept running stale translated code. Round-robin TCG ran 900 cycles cleanly
# and is no slower on these 2-core machines. HOSTEL_NESTED_TCG_THREAD=multi
# brings back parallel L1 vCPUs (for measurements, at that risk).
mkfifo "$WORK/console"
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 \
    -nodefaults -no-user-config -accel "tcg,thread=${HOSTEL_NESTED_TCG_THREAD:-single}" \
    -cpu "${HOSTEL_NESTED_CPU:-qemu64,+svm,+npt}" -smp "$SMP" -m "$MEM" \
    -kernel "$VMLINUZ" -initrd "$INITRD" \
    -append "console=ttyS1 loglevel=${HOSTEL_NESTED_LOGLEVEL:-7} panic=-1" \
    -nographic -serial stdio -serial "file:$WORK/kernel.log" -monitor none -no-reboot \
    </dev/null >"$WORK/console" 2>"$WORK/qemu.err" &
QPID=$!
T_QEMU=$EPOCHREALTIME

START_MARK="@@HOSTEL-L1 $TOKEN START "
EXIT_MARK="@@HOSTEL-L1 $TOKEN EXIT "
state=boot      # boot -> running -> finished
rc=
T_BOOT=
TAIL=()
exec 3<"$WORK/console"
while :; do
    # After the exit marker nothing matters: stop QEMU rather than wait for poweroff.
    [ "$state" != finished ] || break
    IFS= read -r line <&3 || [ -n "$line" ] || break
    line=${line%$'\r'}
    TAIL+=("$line")
    [ ${#TAIL[@]} -le 30 ] || TAIL=("${TAIL[@]:1}")
    case "$state:$line" in
    boot:*"$START_MARK"*)
        state=running
        T_BOOT=$EPOCHREALTIME
        L1_UPTIME=${line##*"$START_MARK"}
        L1_UPTIME=${L1_UPTIME%%@@*}
        continue ;;
    running:*"$EXIT_MARK"*)
        # COMMAND's last line may lack a newline: the marker then shares its line.
        pre=${line%%"$EXIT_MARK"*}
        [ -z "$pre" ] || printf '%s' "$pre"
        rc=${line##*"$EXIT_MARK"}
        rc=${rc%%@@*}
        state=finished
        continue ;;
    esac
    if [ "$state" = running ]; then
        printf '%s\n' "$line"
    elif [ "$VERBOSE" = 1 ]; then
        printf '[L1] %s\n' "$line" >&2
    fi
done
exec 3<&-
if kill -0 "$QPID" 2>/dev/null && [ "$state" = finished ]; then
    kill "$QPID" 2>/dev/null || true
fi
qrc=0
wait "$QPID" || qrc=$?
QPID=
T_END=$EPOCHREALTIME

if [ "$VERBOSE" = 1 ] && [ -s "$WORK/kernel.log" ]; then
    tr -d '\r' < "$WORK/kernel.log" | sed 's/^/[L1 kernel] /' >&2
fi
# The kernel log's tail, as "  | " lines; only its last boot's part matters.
kernel_tail() {
    tr -d '\r' < "$WORK/kernel.log" | tail -n "$1" | sed 's/^/  | /'
}
PROBLEMS='BUG:|WARNING:|Oops|soft lockup|hung_task|Call Trace|general protection|Kernel panic'

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
if [ -n "$T_BOOT" ]; then
    echo "$ME: L1 boot $(secs "$T_QEMU" "$T_BOOT") s (L1 uptime ${L1_UPTIME} s), command $(secs "$T_BOOT" "$T_END") s, total $(secs "$T0" "$T_END") s (setup $(secs "$T0" "$T_QEMU") s)" >&2
fi

if ! [[ $rc =~ ^[0-9]+$ ]]; then
    if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
        why="timed out after $TIMEOUT s"
    else
        why="stopped (QEMU exit status $qrc)"
    fi
    if [ -n "$T_BOOT" ]; then where="while COMMAND ran"; else where="before COMMAND started"; fi
    {
        echo "$ME: ERROR: L1 $why $where, without reporting COMMAND's exit status; last console lines:"
        printf '  | %s\n' "${TAIL[@]}"
        if [ -s "$WORK/kernel.log" ]; then
            echo "$ME: L1 kernel log (last 40 lines):"
            kernel_tail 40
        fi
        if [ -s "$WORK/qemu.err" ]; then
            echo "$ME: QEMU said:"
            tail -n 10 "$WORK/qemu.err" | sed 's/^/  | /'
        fi
    } >&2
    exit 125
fi
if [ "$VERBOSE" != 1 ] && grep -Eq "$PROBLEMS" "$WORK/kernel.log" 2>/dev/null; then
    {
        echo "$ME: note: L1's kernel logged problems (KVM or emulation trouble?):"
        grep -E -A 12 "$PROBLEMS" "$WORK/kernel.log" | tr -d '\r' | head -n 40 | sed 's/^/  | /'
    } >&2
fi
exit "$rc"
