#!/usr/bin/env bash
# Builds dist/mailaudit_<version>_<arch>.deb from this checkout: the binary,
# the man pages and completions generated from the cobra commands, the
# systemd units, the config files and the README, packed by nfpm.
#
# Needs Go only: nfpm is run as a Go module at a pinned version (go run
# MODULE@VERSION), so nothing is downloaded but Go modules.
#
#   bash packaging/deb.sh                      # version from git, or 0.0~dev
#   MAILAUDIT_VERSION=1.2.3 bash packaging/deb.sh
#   GOARCH=arm64 bash packaging/deb.sh         # another architecture
#   MAILAUDIT_DIST=/tmp/out bash packaging/deb.sh   # another output directory
#
# The last line of its output is the path of the package.
set -euo pipefail
cd "$(dirname "$0")/.."

NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2

# The version: an exact tag (v1.2.3 -> 1.2.3), else a snapshot that sorts
# by commit time (0.0~git20261128100000.0123abc), else 0.0~dev.
version=${MAILAUDIT_VERSION:-}
if [ -z "$version" ]; then
	if tag=$(git describe --tags --exact-match 2>/dev/null); then
		version=${tag#v}
	elif rev=$(git rev-parse --short=12 HEAD 2>/dev/null); then
		when=$(TZ=UTC git show -s --format=%cd --date=format-local:%Y%m%d%H%M%S HEAD)
		version="0.0~git${when}.${rev}"
		if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
			version="${version}.dirty"
		fi
	else
		version="0.0~dev"
	fi
fi
case "$version" in
[0-9]*) ;;
*) echo "deb.sh: version $version must start with a digit" >&2; exit 2 ;;
esac

goarch=${GOARCH:-$(go env GOARCH)}
case "$goarch" in
amd64 | arm64 | riscv64 | ppc64le | s390x) arch=$goarch ;;
386) arch=i386 ;;
arm) arch=armhf; export GOARM=${GOARM:-7} ;;
*) echo "deb.sh: no Debian architecture for GOARCH=$goarch" >&2; exit 2 ;;
esac

# Reproducible: file dates from the commit, when there is one.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git show -s --format=%ct HEAD 2>/dev/null || date +%s)}

build=$(mktemp -d "${TMPDIR:-/tmp}/mailaudit-deb.XXXXXX")
trap 'rm -rf "$build"' EXIT
ldflags="-s -w -X main.version=$version"

echo "deb.sh: building mailaudit $version for $arch (the first build compiles SQLite: about two minutes on a small machine)" >&2
CGO_ENABLED=0 GOOS=linux GOARCH=$goarch go build -buildvcs=auto -trimpath -ldflags "$ldflags" -o "$build/mailaudit" ./cmd/mailaudit

# Man pages and completions come from the same commands (a host build:
# it runs here).
GOOS= GOARCH= GOARM= go run -buildvcs=auto -tags gendoc -ldflags "$ldflags" ./cmd/mailaudit gendoc "$build"
gzip -9n "$build"/man1/*.1

{
	echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
	echo "Upstream-Name: mailaudit"
	echo
	echo "Files: *"
	echo "License: MIT"
	echo
	echo "License: MIT"
	sed -e 's/^$/./' -e 's/^/ /' LICENSE
} >"$build/copyright"

dist=${MAILAUDIT_DIST:-dist}
mkdir -p "$dist"
out="$dist/mailaudit_${version}_${arch}.deb"
rm -f "$out"
sed -e "s|@VERSION@|$version|g" -e "s|@ARCH@|$arch|g" -e "s|@BUILD@|$build|g" packaging/nfpm.yaml >"$build/nfpm.yaml"
GOOS= GOARCH= GOARM= go run "$NFPM" package --config "$build/nfpm.yaml" --packager deb --target "$out" >&2
echo "$out"
