#!/usr/bin/env bash
# Install the Debian packages Umbra's build and tests need.
# Fast no-op when everything is already installed.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: tools/deps.sh [NEED...]

Installs missing Debian packages for the named needs (default: build).
  build  gcc make nasm binutils grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools
  qemu   qemu-system-x86
  uefi   ovmf
  bochs  bochs bochsbios vgabios
  host   gcc make clang llvm libclang-rt-14-dev (sanitizers, libFuzzer, symbolizer)
  all    all of the above

As root: apt-get update (once) and apt-get install -y --no-install-recommends.
Otherwise: prints the sudo command to run and exits 1.
EOF
}

pkgs_for() {
    case "$1" in
        build) echo gcc make nasm binutils grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools ;;
        qemu)  echo qemu-system-x86 ;;
        uefi)  echo ovmf ;;
        bochs) echo bochs bochsbios vgabios ;;
        # clang's libFuzzer/sanitizer runtimes are only a Recommends of clang.
        host)  echo gcc make clang llvm libclang-rt-14-dev ;;
        all)   for n in build qemu uefi bochs host; do pkgs_for "$n"; done ;;
        *)     echo "deps.sh: unknown need '$1' (try --help)" >&2; return 1 ;;
    esac
}

needs=("$@")
[ ${#needs[@]} -eq 0 ] && needs=(build)
wanted=()
for n in "${needs[@]}"; do
    case "$n" in -h|--help) usage; exit 0 ;; esac
    list=$(pkgs_for "$n") || exit 2
    # shellcheck disable=SC2206
    wanted+=($list)
done

# One dpkg-query for all: it lists the installed ones as "ii  NAME".
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${wanted[@]}" 2>/dev/null || true)
missing=()
for p in $(printf '%s\n' "${wanted[@]}" | sort -u); do
    grep -qx "ii  $p" <<<"$installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}" >&2
    echo "deps.sh: run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
