#!/usr/bin/env bash
# The man pages, the bash completion and 'dmakit help' come from the one
# text each command prints for --help (scripts/gen-cli-docs.py): 'dmakit
# help CMD' is 'dmakit CMD --help', an unknown topic is a usage error, every
# page renders with man(1) without a warning and lists every option --help
# lists, libdmakit(3) lists every function the library exports, and the
# completion offers every command and each command's options.
# timeout: 300
. "$TOP/tests/host/lib.bash"
export LC_ALL=C.UTF-8 MANWIDTH=80

"$DMAKIT" help >"$TMPDIR/top" 2>"$TMPDIR/top.err"
t_eq "dmakit help exits 0" "$?" 0
mapfile -t cmds < <(sed -n '/^commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' "$TMPDIR/top")
t_check "dmakit help lists the commands (${#cmds[@]})" test "${#cmds[@]}" -ge 8

for cmd in "${cmds[@]}"; do
	"$DMAKIT" "$cmd" --help >"$TMPDIR/$cmd.help" 2>&1
	rc1=$?
	"$DMAKIT" help "$cmd" >"$TMPDIR/$cmd.help2" 2>&1
	rc2=$?
	t_eq "dmakit $cmd --help exits 0" "$rc1" 0
	t_eq "dmakit help $cmd exits 0" "$rc2" 0
	t_check "dmakit help $cmd prints what dmakit $cmd --help does" \
		cmp -s "$TMPDIR/$cmd.help" "$TMPDIR/$cmd.help2"
done

"$DMAKIT" help nosuch >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "dmakit help nosuch exits 2" "$?" 2
t_check "... prints nothing on stdout" test ! -s "$TMPDIR/out"
t_grep "... says there is no such command" "no command 'nosuch'" "$TMPDIR/err"
"$DMAKIT" help help >"$TMPDIR/helphelp" 2>&1
t_eq "dmakit help help exits 0" "$?" 0
t_check "... prints the top-level help" cmp -s "$TMPDIR/top" "$TMPDIR/helphelp"
"$DMAKIT" help record verify >/dev/null 2>&1
t_eq "dmakit help with two topics exits 2" "$?" 2
"$DMAKIT" nosuch >/dev/null 2>&1
t_eq "an unknown command exits 2" "$?" 2

python3 "$TOP/scripts/gen-cli-docs.py" "$DMAKIT" 0.0.0 "$TMPDIR/man" \
	"$TOP/include/dmakit.h" "$TOP"/include/dmakit/*.h 2>"$TMPDIR/gen.err"
t_eq "the generator runs" "$?" 0

# render PAGE: the page as man shows it; groff's warnings into PAGE.warn
render() {
	man --warnings -l "$1" 2>"$1.warn" | col -bx >"$1.txt"
}

# the options a --help text lists: its option lines' names, its synopsis's
help_options() {
	{
		sed -n '1,/^$/p' "$1"
		grep -E '^ +-' "$1" | sed -E 's/^ +//; s/  .*//'
	} | grep -oE -- '(^|[][ ,(|])--?[A-Za-z][a-z0-9-]*' | sed -E 's/^[][ ,(|]//' | sort -u
}

render "$TMPDIR/man/dmakit.1"
t_check "dmakit(1) renders without warnings" test ! -s "$TMPDIR/man/dmakit.1.warn"
for cmd in "${cmds[@]}"; do
	t_grep "dmakit(1) names dmakit-$cmd(1)" "dmakit-$cmd\(1\)" "$TMPDIR/man/dmakit.1.txt"
done
t_grep "dmakit(1) has --version" "--version" "$TMPDIR/man/dmakit.1.txt"

for cmd in "${cmds[@]}"; do
	page=$TMPDIR/man/dmakit-$cmd.1
	render "$page"
	t_check "dmakit-$cmd(1) renders without warnings" test ! -s "$page.warn"
	t_grep "dmakit-$cmd(1) has its NAME line" "^ +dmakit-$cmd - " "$page.txt"
	missing=()
	nopts=0
	while read -r opt; do
		nopts=$((nopts + 1))
		grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" "$page.txt" || missing+=("$opt")
	done < <(help_options "$TMPDIR/$cmd.help")
	t_eq "dmakit-$cmd(1) lists all $nopts options --help lists" "${missing[*]}" ""
	# every description line of --help is on the page (words may reflow)
	lost=0
	while read -r line; do
		words=$(tr -s ' \n' ' ' <<<"$line" | sed 's/ $//')
		tr -s ' \n' ' ' <"$page.txt" | grep -qF -- "$words" || { lost=$((lost + 1)); echo "  lost: $line"; }
	done < <(grep -E '^[A-Z][a-z]' "$TMPDIR/$cmd.help" | grep -vE '^[A-Za-z ]+:$')
	t_eq "dmakit-$cmd(1) keeps every prose line of --help" "$lost" 0
done

render "$TMPDIR/man/libdmakit.3"
t_check "libdmakit(3) renders without warnings" test ! -s "$TMPDIR/man/libdmakit.3.warn"
so=$TOP/build-san/lib/libdmakit.so
mapfile -t syms < <(nm -D --defined-only "$so" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }')
t_check "the library exports functions (${#syms[@]})" test "${#syms[@]}" -ge 50
missing=()
for s in "${syms[@]}"; do
	grep -qE "\b$s\(" "$TMPDIR/man/libdmakit.3.txt" || missing+=("$s")
done
t_eq "libdmakit(3) lists every exported function" "${missing[*]}" ""

# complete WORDS...: what the completion offers for the last word
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_dmakit; printf "%s\n" "${COMPREPLY[@]}"' _ "$TMPDIR/man/dmakit.bash" "$@" | sort -u
}
offered=$(complete_words dmakit "")
missing=()
for cmd in "${cmds[@]}" help; do
	grep -qx "$cmd" <<<"$offered" || missing+=("$cmd")
done
t_eq "completion offers every command" "${missing[*]}" ""
# the commands dmakit lists that begin with "re", in its order
re_cmds=$(printf '%s\n' "${cmds[@]}" | grep '^re' | sort | tr '\n' ' ')
t_check "some commands begin with 're'" test -n "$re_cmds"
t_eq "completion of 're' is exactly the 're' commands" "$(complete_words dmakit re | sort | tr '\n' ' ')" "$re_cmds"
t_eq "completion after help offers the commands" \
	"$(complete_words dmakit help v | tr '\n' ' ')" "verify "
for cmd in "${cmds[@]}"; do
	offered=$(complete_words dmakit "$cmd" -)
	missing=()
	while read -r opt; do
		grep -qx -- "$opt" <<<"$offered" || missing+=("$opt")
	done < <(help_options "$TMPDIR/$cmd.help")
	t_eq "completion offers every option of $cmd" "${missing[*]}" ""
done
t_eq "completion of 'record --qu'" "$(complete_words dmakit record --qu | tr '\n' ' ')" \
	"--queue-depth --quiet "
t_done
