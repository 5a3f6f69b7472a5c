#!/usr/bin/env bash
# When io_uring cannot register the ring's pages as fixed buffers (here: an
# unprivileged user over RLIMIT_MEMLOCK; on 6.1 kernels: driver mappings,
# EOPNOTSUPP), the default engine falls back to plain io_uring writes with
# a notice: still O_DIRECT, still zero copy, not an error.
# timeout: 120
. "$TOP/tests/host/lib.bash"
need_root
command -v setpriv >/dev/null || t_skip "setpriv (util-linux) is missing"
dir=$TMPDIR/nobody
mkdir -p "$dir"
chmod 755 "$TMPDIR"
chown nobody "$dir"
setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c \
	"ulimit -l 1024; exec '$DMAKIT' record -d sim:policy=block -o '$dir/x.dat' --size 32M --json" \
	>"$TMPDIR/j" 2>"$TMPDIR/err"
t_eq "record as an unprivileged user exits 0" "$?" 0
t_grep "notice of the fallback" "notice: io_uring cannot register the buffers \(Cannot allocate memory\): using plain io_uring writes" "$TMPDIR/err"
t_eq "not registered" "$(json_get "$TMPDIR/j" registered)" false
t_eq "still O_DIRECT" "$(json_get "$TMPDIR/j" direct)" true
t_eq "still the uring engine" "$(json_get "$TMPDIR/j" engine)" uring
t_eq "metadata says so" "$(json_get "$dir/x.dat.json" registered)" false
t_check "verify passes" "$DMAKIT" verify "$dir/x.dat" --quiet
t_done
