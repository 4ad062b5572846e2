# Sourced (from the repository root) by the scripts that build or run symp on a CUDA machine: points the
# dynamic loader, pkg-config and espeak-ng at the Debian packages that scripts/cuda-bundle.sh unpacked into
# .cache/cuda-bundle (carried there), when that folder is here. Sets $b to it.
b=$PWD/.cache/cuda-bundle
if [ -d "$b" ]; then
  export PKG_CONFIG_PATH=$b/root/usr/lib/x86_64-linux-gnu/pkgconfig:$b/root/usr/share/pkgconfig:${PKG_CONFIG_PATH:-}
  export LD_LIBRARY_PATH=$b/root/usr/lib/x86_64-linux-gnu:$b/lib:${LD_LIBRARY_PATH:-}
  export ESPEAK_DATA_PATH=${ESPEAK_DATA_PATH:-$b/root/usr/lib/x86_64-linux-gnu}
fi
