# timeout: 150
# Every ioctl with bad arguments; signals (EINTR, never 512), timeouts,
# the per-file limit, closing with transactions in flight -- on the edu
# device and on the simulated card.
. /dmakit/lib.sh

load_dmakit
vm_ioctl "$(card_dev edu)" edu
t_eq "vm_ioctl on edu" $? 0
vm_ioctl "$(card_dev sim)" sim
t_eq "vm_ioctl on sim" $? 0
# closing a file with work in flight leaves nothing pinned or running
s=$(card_sys "$(card_dev edu)")
t_eq "edu: no error counted" "$(cat "$s/counters/errors")" 0
# every file closed, every mapping gone: nothing holds the module
t_eq "module reference count back to 0" "$(cat /sys/module/dmakit/refcnt)" 0
t_done
