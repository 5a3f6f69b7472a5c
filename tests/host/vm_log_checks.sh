#!/usr/bin/env bash
# timeout: 60
# The VM suite's log checks (tests/vm/checks.sh) on canned console logs:
# each class of kernel report, in the words the 6.1 kernel prints, fails
# with its own message and the offending lines; the debug kernel's boot
# messages do not; the DMA-API state lines (error_count against the
# section's base, disabled, mappings held), lockdep still on, and the
# final rmmod are scored; a boot the emulator stalled is scored like any
# other (the runner may add a boot, never drop one); the fault boot scores
# each section's module load and transfer.  The runner's init watchdog
# (vm_watch_init) stops a boot that never reaches the guest's init and
# leaves a boot that did alone; its silence watcher (vm_watch_silence)
# dumps and names what the vCPUs of a silent guest are doing.
# (The fault boot of `make check-vm KERNEL=debug` proves the same checks
# against a real kernel.)
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/vm/checks.sh"
. "$TOP/tests/vm/vmlib.sh"

clean_boot='[    0.468206] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
[    0.512000] kasan: KernelAddressSanitizer initialized
[    0.600000] DMA-API: preallocated 65536 debug entries
[    0.600001] DMA-API: debugging enabled by kernel config
@@BOOT config=plain kernel=6.1.192 cpus=2
ok - 00-probe: insmod'
clean_end='@@RMMOD ok
@@DMA-API error_count=0 disabled=N entries=2
@@LOCKDEP debug_locks=1'

# score NAME KERNEL_DEBUG [LINE...]: check_log on a clean boot plus LINEs,
# the report in $TMPDIR/NAME.out
score() {
	local name=$1
	KERNEL_DEBUG=$2
	shift 2
	{ echo "$clean_boot"; printf '%s\n' "$@"; echo "$clean_end"; } >"$TMPDIR/$name.log"
	check_log "t/$name" "$TMPDIR/$name.log" >"$TMPDIR/$name.out"
}

score clean 1
t_eq "a clean debug boot: no failure" "$(grep -c '^not ok' "$TMPDIR/clean.out")" 0
t_eq "  five checks pass" "$(grep -c '^ok - ' "$TMPDIR/clean.out")" 5
score clean-stock 0
t_eq "a clean stock boot: the log and rmmod checks only" \
	"$(grep -c '^ok - ' "$TMPDIR/clean-stock.out") $(grep -c '^not ok' "$TMPDIR/clean-stock.out")" "2 0"

# expect NAME CLASS-MESSAGE LINE...: the report fails with that message
# and quotes the line
expect() {
	local name=$1 msg=$2
	shift 2
	score "$name" 1 "$@"
	t_grep "$name: reported as '$msg'" "^not ok - t/$name: kernel log: $msg\$" "$TMPDIR/$name.out"
	t_grep "  with the offending line" "    \\| [0-9]+:.*$(printf '%s' "$1" | cut -c16-40 | sed 's/[][().*+?|^$\\]/./g')" "$TMPDIR/$name.out"
}
expect dma-api "DMA-API debugging reports" \
	'[   17.029686] DMA-API: dmakit 0000:00:04.0: device driver failed to check map error[device address=0x000000000ce1c000] [size=4096 bytes] [mapped as single]'
expect dma-api-oom "DMA-API debugging reports" \
	'[   17.000000] DMA-API: debugging out of memory - disabling'
expect kasan "KASAN reports" \
	'[   30.100000] BUG: KASAN: use-after-free in dmakit_ring_free+0x1a/0x80 [dmakit]'
expect circular "lockdep or sleeping-in-atomic reports" \
	'[   40.000000] WARNING: possible circular locking dependency detected'
expect recursive "lockdep or sleeping-in-atomic reports" \
	'[   40.000000] WARNING: possible recursive locking detected'
expect inconsistent "lockdep or sleeping-in-atomic reports" \
	'[   40.000000] WARNING: inconsistent lock state'
expect rcu "lockdep or sleeping-in-atomic reports" \
	'[   40.000000] WARNING: suspicious RCU usage'
expect atomic-sleep "lockdep or sleeping-in-atomic reports" \
	'[   18.967102] BUG: sleeping function called from invalid context at include/linux/sched/mm.h:274'
expect lock-held "lockdep or sleeping-in-atomic reports" \
	'[   40.000000] WARNING: lock held when returning to user space!'
expect odebug "debug-objects or list-corruption reports" \
	'[   50.000000] ODEBUG: free active (active state 0) object type: timer_list hint: sim_tick+0x0/0x40 [dmakit]'
expect list "debug-objects or list-corruption reports" \
	'[   50.000000] list_del corruption. prev->next should be ffff888003b2c1e8, but was dead000000000100'
expect oops "BUG/WARNING/Oops/call trace/OOM" \
	'[   60.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008'
expect hung "BUG/WARNING/Oops/call trace/OOM" \
	'[  250.000000] INFO: task vm_ioctl:123 blocked for more than 120 seconds.'

# the DMA-API state after the final rmmod
state() {
	local name=$1
	shift
	{ echo "$clean_boot"; printf '%s\n' "$@"; } >"$TMPDIR/$name.log"
	KERNEL_DEBUG=1 check_log "t/$name" "$TMPDIR/$name.log" >"$TMPDIR/$name.out"
}
state count '@@RMMOD ok' '@@DMA-API error_count=3 disabled=N entries=2'
t_grep "error_count 3: reported" "^not ok - t/count: DMA-API error_count is 3 after rmmod, expected 0" "$TMPDIR/count.out"
state base '@@DMA-API-BASE error_count=6' '@@RMMOD ok' '@@DMA-API error_count=6 disabled=N entries=2'
t_grep "error_count counted from the section's base" "^ok - t/base: DMA-API error_count 0" "$TMPDIR/base.out"
state off '@@RMMOD ok' '@@DMA-API error_count=0 disabled=Y entries=0'
t_grep "DMA-API debugging switched off: reported" "^not ok - t/off: DMA-API debugging switched itself off" "$TMPDIR/off.out"
state held '@@RMMOD ok' '@@DMA-API error_count=0 disabled=N entries=4' \
	'@@DMA-API-HELD 0000:00:04.0 pci single idx 4886 P=c6e4000 N=c6e4 D=c6e4000 L=1000 DMA_TO_DEVICE check succeeded' \
	'@@DMA-API-HELD dmakit-sim.0 platform scatter-gather idx 1 P=1000 N=1 D=1000 L=1000 DMA_FROM_DEVICE check succeeded'
t_grep "mappings held after rmmod: reported" "^not ok - t/held: the driver still holds 2 DMA mappings after rmmod" "$TMPDIR/held.out"
t_grep "  with the dump's lines" "^    \\| dmakit-sim.0 platform scatter-gather" "$TMPDIR/held.out"
state nostate '@@RMMOD ok'
t_grep "no DMA-API line on the debug kernel: reported" "^not ok - t/nostate: the guest reported no DMA-API state" "$TMPDIR/nostate.out"
state rmfail '@@RMMOD failed' '@@DMA-API error_count=0 disabled=N entries=2'
t_grep "rmmod failed: reported" "^not ok - t/rmfail: dmakit.ko could not be unloaded" "$TMPDIR/rmfail.out"
state normm '@@DMA-API error_count=0 disabled=N entries=2'
t_grep "no final rmmod: reported" "^not ok - t/normm: the guest did not unload dmakit.ko" "$TMPDIR/normm.out"
state lockoff '@@RMMOD ok' '@@DMA-API error_count=0 disabled=N entries=2' '@@LOCKDEP debug_locks=0'
t_grep "lockdep off at the end: reported" "^not ok - t/lockoff: lockdep switched itself off" "$TMPDIR/lockoff.out"
t_grep "no lockdep line on the debug kernel: reported" "^not ok - t/normm: the guest reported no lockdep state" "$TMPDIR/normm.out"
{ echo "$clean_boot"; echo '@@RMMOD ok'; echo '@@DMA-API error_count=0 disabled=N entries=2'; } >"$TMPDIR/section.log"
KERNEL_DEBUG=1 CHECK_SECTION=1 check_log t/section "$TMPDIR/section.log" >"$TMPDIR/section.out"
t_eq "a fault-boot section: no lockdep state needed" "$(grep -c '^not ok' "$TMPDIR/section.out")" 0

# a boot the emulator stalled: scored as it ran, its failures counted
{
	echo "$clean_boot"
	echo "[  120.000000] rcu: INFO: rcu_preempt self-detected stall: kthread timer wakeup didn't happen for 2502 jiffies!"
	echo 'not ok - 10-xfer: vm_xfer on edu'
	echo 'skip - 10-xfer: partial_completion: edu completes a transfer whole'
	echo '@@DONE'
	echo "$clean_end"
} >"$TMPDIR/stalled.log"
t_check "a stall is spotted (one more boot is run)" emulator_stalled "$TMPDIR/stalled.log"
KERNEL_DEBUG=0 score_boot t/stalled "$TMPDIR/stalled.log" "qemu exit 0" >"$TMPDIR/stalled.out"
t_grep "  and the stalled boot's failure is scored" "^not ok - t/stalled: 10-xfer: vm_xfer on edu\$" "$TMPDIR/stalled.out"
t_grep "  its guest's skip is passed on, named" "^skip - t/stalled: 10-xfer: partial_completion: " "$TMPDIR/stalled.out"
t_grep "  its guest's pass too" "^ok - t/stalled: 00-probe: insmod\$" "$TMPDIR/stalled.out"
{ echo "$clean_boot"; echo 'ok - 10-xfer: vm_xfer on edu'; } >"$TMPDIR/unfinished.log"
KERNEL_DEBUG=0 score_boot t/unfinished "$TMPDIR/unfinished.log" "qemu exit 124 after 300s" >"$TMPDIR/unfinished.out"
t_grep "a boot that did not finish: reported" "^not ok - t/unfinished: the boot did not finish \(qemu exit 124 after 300s" "$TMPDIR/unfinished.out"

# fault_log FILE NONE-INSMOD-RC NONE-XFER-RC: a fault boot whose sections
# all report their bug; the "none" section with the given results
fault_log() {
	local e fault msg words
	{
		echo "$clean_boot"
		for e in "${FAULT_EXPECT[@]}"; do
			IFS='|' read -r fault msg words <<<"$e"
			echo "@@FAULT-BEGIN $fault"
			echo "@@DMA-API-BASE error_count=0"
			if [ "$fault" = none ]; then
				echo "@@FAULT-INSMOD none rc=$2"
				echo "@@FAULT-XFER none rc=$3"
				[ "$2" = 0 ] && echo '@@RMMOD ok' || echo '@@RMMOD not-loaded'
				echo '@@DMA-API error_count=0 disabled=N entries=0'
			else
				echo "@@FAULT-INSMOD $fault rc=0"
				echo "@@FAULT-XFER $fault rc=0"
				case $fault in
				map_error) echo '[   17.0] DMA-API: dmakit 0000:01:00.0: device driver failed to check map error' ;;
				lock_order) echo '[   18.0] WARNING: possible circular locking dependency detected' ;;
				use_after_free) echo '[   19.0] BUG: KASAN: use-after-free in dmakit_fault_use_after_free+0x1/0x2' ;;
				atomic_sleep) echo '[   20.0] BUG: sleeping function called from invalid context at mm/slab.h:1' ;;
				esac
				echo '@@RMMOD ok'
				if [ "$fault" = map_error ]; then
					echo '@@DMA-API error_count=1 disabled=N entries=0'
				else
					echo '@@DMA-API error_count=0 disabled=N entries=0'
				fi
				[ "$fault" = leak_unmap ] && {
					echo '[   21.0] DMA-API: dmakit 0000:01:00.0: device driver has pending DMA allocations while released from device [count=1]'
					echo '@@DMA-API-HELD 0000:01:00.0 pci single idx 1 P=1 N=1 D=1 L=800 DMA_TO_DEVICE'
				}
			fi
			echo "@@FAULT-END $fault"
		done
		echo '@@DONE'
	} >"$1"
}
mkdir -p "$TMPDIR/faults-good" "$TMPDIR/faults-noload" "$TMPDIR/faults-noxfer"
fault_log "$TMPDIR/faults-good/console.log" 0 0
KERNEL_DEBUG=1 score_boot t/faults "$TMPDIR/faults-good/console.log" "qemu exit 0" >"$TMPDIR/faults-good.out"
t_eq "a fault boot that reports every fault: no failure" "$(grep -c '^not ok' "$TMPDIR/faults-good.out")" 0
# the guest's line, 6 loads, 5 faults reported, the control's transfer
# and its clean checks
t_eq "  a load per section, each fault reported, the control's transfer and checks" \
	"$(grep -c '^ok - ' "$TMPDIR/faults-good.out")" 14
fault_log "$TMPDIR/faults-noload/console.log" 1 1
KERNEL_DEBUG=1 score_boot t/faults "$TMPDIR/faults-noload/console.log" "qemu exit 0" >"$TMPDIR/faults-noload.out"
t_grep "the control section with no module loaded fails" \
	"^not ok - t/faults: fault=none: the test build did not load \(insmod rc='1'\)" "$TMPDIR/faults-noload.out"
t_grep "  and so does its transfer" "^not ok - t/faults: the test build without a fault transfers .*rc=1" "$TMPDIR/faults-noload.out"
fault_log "$TMPDIR/faults-noxfer/console.log" 0 1
sed -i '/^@@FAULT-XFER map_error/d' "$TMPDIR/faults-noxfer/console.log"
KERNEL_DEBUG=1 score_boot t/faults "$TMPDIR/faults-noxfer/console.log" "qemu exit 0" >"$TMPDIR/faults-noxfer.out"
t_grep "a failed control transfer fails" "^not ok - t/faults: the test build without a fault transfers .*rc=1" "$TMPDIR/faults-noxfer.out"
t_grep "a section with no transfer result fails" "^not ok - t/faults: fault=map_error: no transfer result" "$TMPDIR/faults-noxfer.out"
# the init watchdog: a "guest" (a sleeping process) whose log never shows
# @@BOOT is stopped within its bound and the reason written; one whose log
# has it is left running
printf '[    1.164991] APIC calibration not consistent with PM-Timer\n' >"$TMPDIR/hung.log"
sleep 60 &
victim=$!
VM_INIT_TIMEOUT=2 vm_watch_init "$TMPDIR/hung.log" "$victim"
for _ in $(seq 1 300); do	# the watchdog returned: the kill was sent
	kill -0 "$victim" 2>/dev/null || break
	sleep 0.1
done
t_check "a boot that never reaches init is stopped" sh -c "! kill -0 $victim 2>/dev/null"
t_grep "... saying why, with the kernel's last line" "no @@BOOT after 2 s; last kernel line: .*APIC calibration" "$TMPDIR/hung.log.stalled"
printf '@@BOOT config=plain kernel=6.1 cpus=2\n' >"$TMPDIR/up.log"
sleep 60 &
alive=$!
VM_INIT_TIMEOUT=2 vm_watch_init "$TMPDIR/up.log" "$alive"
t_check "a boot that reached init is left running" kill -0 "$alive"
t_check "... with no stall recorded" test ! -e "$TMPDIR/up.log.stalled"
kill "$alive" 2>/dev/null

# vm_watch_silence: a guest whose console stops growing gets its vCPUs'
# registers dumped through the monitor (here a canned one) and the
# instruction pointers named from System.map with the guest's KASLR
# offset, or from the module's own symbols at its load address.
d=$TMPDIR/silence
mkdir -p "$d"
printf '%s\n' 'ffffffff81000000 T _stext' 'ffffffff81001000 T native_safe_halt' \
	'ffffffff81002000 t stuck_here' 'ffffffff81003000 D some_data' >"$d/System.map"
printf '%s\n' 'int f_a(int x) { return x + 1; }' 'int f_b(int x) { return x * 3 + f_a(x); }' >"$d/m.c"
gcc -O0 -c -o "$d/fake.ko" "$d/m.c"
fb=$(objdump -t "$d/fake.ko" | awk '$NF == "f_b" { print $1 }')
printf '%s\n' '@@BOOT config=plain' '@@KSYM _stext ffffffff95000000' \
	'@@KMOD fake.ko 0xffffffffc0100000' 'ok - 80-hotplug: something' >"$d/console.log"
mod_rip=$(printf '%016x' $((0xffffffffc0100000 + 0x$fb + 4)))
printf '%s\n' 'CPU#0' 'RAX=0000000000000000 RBX=0000000000000001' \
	'RIP=ffffffff95002008 RFL=00000046 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0' \
	'CPU#1' "RIP=$mod_rip RFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=1" >"$d/regs"
cat >"$d/monitor.sh" <<EOS
read -r c
case \$c in
"info registers -a") cat "$d/regs" ;;
*) echo "reply to \$c" ;;
esac
EOS
socat "UNIX-LISTEN:$d/mon,fork" "SYSTEM:bash $d/monitor.sh" &
monpid=$!
sleep 1000 &
guest=$!
wait_for 60 test -S "$d/mon"
VM_SILENCE=2 VM_SYSTEM_MAP=$d/System.map VM_MODULE_DIR=$d \
	vm_watch_silence "$d/console.log" "$d/mon" "$guest" &
watcher=$!
wait_for 120 grep -qs '^CPU#1 RIP' "$d/console.log.frozen"
cat "$d/console.log.frozen"
t_grep "silence: the monitor's register dump is kept" '^RIP=ffffffff95002008 ' "$d/console.log.frozen"
t_grep "silence: a kernel address named with the guest's KASLR offset" \
	'^CPU#0 RIP=ffffffff95002008 stuck_here\+0x8$' "$d/console.log.frozen"
t_grep "silence: a module address named from the module's symbols" \
	"^CPU#1 RIP=$mod_rip \\[fake.ko\\] f_b\\+0x4\$" "$d/console.log.frozen"
t_grep "silence: the status asked too" '^reply to info status$' "$d/console.log.frozen"
kill "$guest"
wait_for 60 sh -c "! kill -0 $watcher 2>/dev/null"
t_check "silence: the watcher ends with the guest" sh -c "! kill -0 $watcher 2>/dev/null"
kill "$monpid" 2>/dev/null
t_done
