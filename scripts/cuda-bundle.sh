#!/usr/bin/env bash
# Prepares .cache/cuda-bundle/: the Debian packages symp builds against, unpacked into a folder that can be
# carried to a CUDA machine without apt or network (Ubuntu 24.04 with torch 2.x in its python3).
# Then, on that machine:  scripts/cuda-build.sh
# Only packages that such a machine typically lacks are bundled; the runtime libraries they pull in are
# found with ldd against this machine's build and copied beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/cuda-bundle
rm -rf "$out" && mkdir -p "$out/debs" "$out/root" "$out/lib"
pkgs=(libsndfile1-dev libsndfile1 libflac-dev libflac12 libvorbis-dev libvorbis0a libvorbisenc2 libvorbisfile3
      libopus-dev libopus0 libogg-dev libogg0 libmpg123-dev libmpg123-0 libmp3lame0
      libsoxr-dev libsoxr0 libsoxr-lsr0 libespeak-ng-dev libespeak-ng1 espeak-ng-data libpcaudio0 libsonic0
      libpcre2-dev libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 libcpp-httplib-dev libcpp-httplib0.11
      catch2)  # Ubuntu 24.04 ships Catch2 v3; symp tests use v2
(cd "$out/debs" && apt-get download "${pkgs[@]}" >/dev/null)
for deb in "$out"/debs/*.deb; do dpkg -x "$deb" "$out/root"; done
# pkg-config files name prefix=/usr: point them at the bundle.
find "$out/root" -name '*.pc' -exec sed -i "s|^prefix=/usr|prefix=\${pcfiledir}/../../..|" {} +
# Runtime closure of the bundled libraries (minus glibc, the C++ runtime and what Ubuntu surely ships).
skip='^(libc|libm|libdl|libpthread|librt|libgcc_s|libstdc\+\+|ld-linux|libz|libgomp)\.'
for so in "$out"/root/usr/lib/x86_64-linux-gnu/*.so.*; do
  ldd "$so" 2>/dev/null | awk '$3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  base=$(basename "$lib")
  [[ "$base" =~ $skip ]] && continue
  [ -e "$out/root/usr/lib/x86_64-linux-gnu/$base" ] || cp -L "$lib" "$out/lib/"
done
rm -rf "$out/debs" "$out/root/usr/share/doc" "$out/root/usr/share/man"
du -sh "$out"
