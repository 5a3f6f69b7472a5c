# timeout: 300
# Host to card: a recording made from the simulated card's C2H stream,
# played back into the same card's ring set up H2C (`dmakit play -d
# /dev/dmakitN`); what the card proves it received (sysfs h2c/: bytes,
# buffers, a running CRC32C) must equal the recording's payload as
# vm_crc32c (its own table, not libdmakit's) computes it.  Then a slow
# producer (underruns counted everywhere), SIGINT mid-play (counts agree)
# and the card removed mid-play.
. /dmakit/lib.sh

load_dmakit
sim=$(card_dev sim)
s=$(card_sys "$sim")
h2c_is() {	# bytes buffers crc32c
	[ "$(cat $s/h2c/bytes) $(cat $s/h2c/buffers) $(cat $s/h2c/crc32c)" = "$1 $2 $3" ]
}

t_check "ring: 32 x 256 KiB, block, 32 MiB/s" set_ring 32 262144 block 33554432
t_eq "the ring is C2H by default" "$(cat $s/direction)" c2h
dmakit record -d "$sim" -o /mnt/h1.dat --size 16M --json --quiet >/tmp/h1.json
t_eq "record 16 MiB from the card (C2H)" $? 0
vm_crc32c /mnt/h1.dat /mnt/h1.dat.idx >/tmp/h1.crc
t_eq "  its payload's CRC32C, computed independently" $? 0
read -r want_crc want_bytes want_bufs <<EOT
$(sed 's/[a-z0-9]*=//g' /tmp/h1.crc)
EOT
t_eq "  16 MiB in 64 buffers" "$want_bytes $want_bufs" "16777216 64"

# the card drains as fast as it can: no underruns possible
echo 0 >"$s/rate"
u0=$(cat "$s/counters/underruns")
dmakit play -d "$sim" --json /mnt/h1.dat >/tmp/p1.json
t_eq "play it into the card (H2C ring)" $? 0
t_eq "  result" "$(json_get /tmp/p1.json result)" complete
t_eq "  into a card's ring" "$(json_get /tmp/p1.json card)" true
t_eq "  at the recording's rate by default" "$(json_get /tmp/p1.json rate_source)" recording
rate=$(json_get /tmp/p1.json rate)
t_check "  which is the card's 32 MiB/s (within 1%: $rate)" \
	test "$rate" -ge 33218969 -a "$rate" -le 33890119
secs=$(json_get /tmp/p1.json seconds)
t_check "  and it took that long (0.49 s of data, $secs s)" \
	awk "BEGIN { exit !($secs >= 0.45) }"
t_eq "  the card took every buffer" \
	"$(json_get /tmp/p1.json buffers) $(json_get /tmp/p1.json bytes)" "64 16777216"
t_eq "  and checked each one's CRC against the recording's" \
	"$(json_get /tmp/p1.json card_crc_checked) $(json_get /tmp/p1.json card_crc_mismatches)" "64 0"
t_check "the card received exactly the recording (bytes, buffers, CRC32C)" \
	h2c_is "$want_bytes" "$want_bufs" "$want_crc"
t_eq "  no underrun at full speed" "$(cat $s/h2c/underruns) $(json_get /tmp/p1.json underruns)" "0 0"
t_eq "  the ring went back to C2H with the last close" "$(cat $s/direction)" c2h
dmakit record -d "$sim" -o /mnt/h0.dat --size 1M --quiet
t_eq "  and records again" $? 0
rm -f /mnt/h0.*

# a slow producer: the card takes 16 MiB/s, the player sends 4 MB/s
echo 16777216 >"$s/rate"
dmakit play -d "$sim" --rate 4M --json /mnt/h1.dat >/tmp/p2.json
t_eq "a slow producer (4 MB/s into a 16 MiB/s card)" $? 0
t_eq "  result" "$(json_get /tmp/p2.json result)" complete
t_eq "  paced by --rate" "$(json_get /tmp/p2.json rate_source) $(json_get /tmp/p2.json rate)" "option 4000000"
under=$(cat "$s/h2c/underruns")
t_check "  the card ran dry: underruns counted ($under)" test "$under" -gt 0
t_eq "  the player reports the card's count" "$(json_get /tmp/p2.json underruns)" "$under"
t_eq "  the driver's counter has them" "$(($(cat $s/counters/underruns) - u0))" "$under"
t_check "  and still received exactly the recording" \
	h2c_is "$want_bytes" "$want_bufs" "$want_crc"
dmakit play -d "$sim" --rate 4M /mnt/h1.dat >/tmp/p2.txt
t_check "  the text summary names the underruns" grep -q "underruns [1-9]" /tmp/p2.txt

# the card took N more buffers than before (the cumulative counter: h2c/
# starts again with each stream)
took() {
	test "$(cat "$s/counters/completed" 2>/dev/null)" -ge $(($1 + $2))
}

# SIGINT mid-play: what the player says the card took is what it took
echo 0 >"$s/rate"
c0=$(cat "$s/counters/completed")
dmakit play -d "$sim" --rate 2M --json /mnt/h1.dat >/tmp/p3.json &
pl=$!
t_check "playing at 2 MB/s: the card receives" wait_for 60 took "$c0" 3
dmakit record -d "$sim" -o /mnt/h0.dat --size 1M --quiet 2>/tmp/h0.err
t_eq "  a recorder meanwhile is refused" $? 1
t_check "  saying the ring is set up host to card" grep -q "host to card" /tmp/h0.err
rm -f /mnt/h0.*
kill -INT $pl
wait $pl
t_eq "  SIGINT: exit status 1" $? 1
t_eq "  result" "$(json_get /tmp/p3.json result)" interrupted
bufs=$(json_get /tmp/p3.json buffers)
bytes=$(json_get /tmp/p3.json bytes)
t_check "  stopped mid-way ($bufs buffers)" test "$bufs" -ge 3 -a "$bufs" -lt 64
t_eq "  nothing was cut: what was published was drained" "$(json_get /tmp/p3.json cut)" 0
part=$(vm_crc32c /mnt/h1.dat /mnt/h1.dat.idx "$bufs" | sed 's/crc32c=\([0-9a-f]*\).*/\1/')
t_check "  the card has exactly those $bufs buffers, $bytes bytes" \
	h2c_is "$bytes" "$bufs" "$part"

# the card removed mid-play: the player ends with an error, nothing hangs
c0=$(cat "$s/counters/completed")
dmakit play -d "$sim" --rate 2M --json /mnt/h1.dat >/tmp/p4.json &
pl=$!
t_check "playing again" wait_for 60 took "$c0" 3
echo dmakit-sim.0 >/sys/bus/platform/drivers/dmakit-sim/unbind
t_eq "  the card removed (platform unbind) under it" $? 0
t_check "  the player ends" wait_for 60 sh -c "! kill -0 $pl 2>/dev/null"
wait $pl
t_eq "  exit status 1" $? 1
t_eq "  result" "$(json_get /tmp/p4.json result)" target-error
t_check "  it says the card is gone" grep -q "gone\|No such device" /tmp/p4.json
echo dmakit-sim.0 >/sys/bus/platform/drivers/dmakit-sim/bind
t_eq "  the card comes back" $? 0
sim=$(card_dev sim)
s=$(card_sys "$sim")
t_eq "  with a C2H ring" "$(cat $s/direction)" c2h

# an engine with its own descriptor table, reporting through
# dmakit_stream_complete() (sim_stream_table=1, 32-ring-table's shape)
t_check "reload with sim_stream_table=1" load_dmakit sim_stream_table=1
sim=$(card_dev sim)
s=$(card_sys "$sim")
t_check "ring: 32 x 256 KiB, max rate" set_ring 32 262144 block 0
dmakit play -d "$sim" --json /mnt/h1.dat >/tmp/p5.json
t_eq "play into the table engine" "$?/$(json_get /tmp/p5.json result)" 0/complete
t_check "  the card received exactly the recording" \
	h2c_is "$want_bytes" "$want_bufs" "$want_crc"
unload_dmakit
t_eq "  and the module unloads" $? 0
rm -f /mnt/h1.* /tmp/p[1-5].* /tmp/h0.err
