#!/usr/bin/env bash
# One version: the Makefile's VERSION.  dmakit.h's DMAKIT_VERSION and
# DMAKIT_VERSION_MAJOR/MINOR/PATCH, dmakit_version() (through --version),
# the driver's build, dkms.conf as installed and debian/changelog all say
# the same, and no other file of the tree holds a copy that could drift.
# timeout: 120
. "$TOP/tests/host/lib.bash"

version=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
t_grep "the Makefile's VERSION is MAJOR.MINOR.PATCH" '^[0-9]+\.[0-9]+\.[0-9]+$' <(echo "$version")
IFS=. read -r major minor patch <<<"$version"

cat >"$TMPDIR/v.c" <<'C'
#include <stdio.h>
#include <dmakit.h>
int main(void)
{
	printf("%s %d %d %d\n", DMAKIT_VERSION, DMAKIT_VERSION_MAJOR,
	       DMAKIT_VERSION_MINOR, DMAKIT_VERSION_PATCH);
	return 0;
}
C
cc -std=gnu11 -I"$TOP/include" -I"$TOP/include/uapi" -o "$TMPDIR/v" "$TMPDIR/v.c"
t_eq "dmakit.h's macros are the Makefile's VERSION" "$("$TMPDIR/v")" \
	"$version $major $minor $patch"
t_eq "dmakit --version (dmakit_version()) says it" "$("$DMAKIT" --version)" "dmakit $version"

t_eq "the driver is built with it" \
	"$(make -s -C "$TOP/driver" --eval 'print-version: ; @echo $(DMAKIT_VERSION)' print-version)" \
	"$version"
t_check "the driver's MODULE_VERSION is what the build passes" \
	grep -q '^MODULE_VERSION(DMAKIT_MODULE_VERSION);' "$TOP/driver/main.c"
t_grep "dkms.conf takes it when installed" '^PACKAGE_VERSION="@VERSION@"$' "$TOP/driver/dkms.conf"
t_eq "debian/changelog says it" \
	"$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)" "$version"

# nothing else may hold the number: it would be a second source (in a
# git checkout, among the tracked files: a built driver's .cmd files hold
# it too, as they should)
if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	copies=$(cd "$TOP" && git ls-files -z | xargs -0 grep -lIF -- "$version" |
		sed 's|^|./|' | sort | tr '\n' ' ')
else
	copies=$(cd "$TOP" && grep -rlIF --exclude-dir=build --exclude-dir=build-san \
		--exclude-dir=.git --exclude-dir=out -- "$version" . | sort | tr '\n' ' ')
fi
t_eq "only the Makefile, dmakit.h and debian/changelog hold $version" "$copies" \
	"./Makefile ./debian/changelog ./include/dmakit.h "
t_done
