# Every dependency is a Debian package (scripts/install-deps.sh); docs/dependencies.md says why each is here.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
# torch 2.x ships its own (newer) fmt headers, which its include path puts first for torch translation units;
# header-only fmt keeps every unit consistent with the headers it saw (scripts/cuda-build.sh turns this on).
option(SYMP_FMT_HEADER_ONLY "Use fmt header-only (needed with torch 2.x, which bundles newer fmt headers)" OFF)
if(SYMP_FMT_HEADER_ONLY)
  set(SYMP_FMT fmt::fmt-header-only)
else()
  set(SYMP_FMT fmt::fmt)
endif()
find_package(nlohmann_json 3 REQUIRED)
if(SYMP_FUZZ)
  # The fuzz build reads files without torch: the rest of this file is about torch and its process groups.
  pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
  pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
  pkg_check_modules(FFTW REQUIRED IMPORTED_TARGET fftw3 fftw3f)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
  pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
  pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
  return()
endif()
find_package(CLI11 REQUIRED)
find_package(Torch REQUIRED)
# symp serve's HTTP/1.1 and WebSocket framing (Boost.Beast, header-only; Debian: libboost1.74-dev).
find_package(Boost 1.74 REQUIRED)

pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
pkg_check_modules(FFTW REQUIRED IMPORTED_TARGET fftw3 fftw3f)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
option(SYMP_WITH_PLOTS "Draw PNG figures with PLplot (OFF: figures are skipped with a warning)" ON)
if(SYMP_WITH_PLOTS)
  pkg_check_modules(PLPLOT REQUIRED IMPORTED_TARGET plplot)
endif()
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
pkg_check_modules(ESPEAK REQUIRED IMPORTED_TARGET espeak-ng)

# Multi-process training joins ranks through c10d's Gloo process group (CPU tensors; it also carries CUDA
# tensors). Its header needs gloo's headers (Debian: libgloo-dev); a torch without them builds single-process
# training only, and `train-lora --nproc` says so.
find_path(SYMP_GLOO_INCLUDE_DIR gloo/algorithm.h HINTS ${TORCH_INCLUDE_DIRS})
find_path(SYMP_C10D_INCLUDE_DIR torch/csrc/distributed/c10d/ProcessGroupGloo.hpp HINTS ${TORCH_INCLUDE_DIRS})
find_library(SYMP_GLOO_LIBRARY gloo)
# scripts/install-deps.sh installs libgloo-dev, so a missing Gloo is an error unless the build opts out
# (-DSYMP_REQUIRE_GLOO=OFF); the multi-process tests of such a build skip, and say so, instead of failing.
option(SYMP_REQUIRE_GLOO "Fail the configure when c10d's Gloo headers are missing" ON)
if(SYMP_GLOO_INCLUDE_DIR AND SYMP_C10D_INCLUDE_DIR)
  set(SYMP_HAVE_GLOO ON)
else()
  set(SYMP_HAVE_GLOO OFF)
  if(SYMP_REQUIRE_GLOO)
    message(FATAL_ERROR "symp: c10d's Gloo headers were not found (Debian: libgloo-dev; scripts/install-deps.sh "
                        "installs it). Configure with -DSYMP_REQUIRE_GLOO=OFF to build single-process training "
                        "only; the multi-process tests then skip with a warning.")
  endif()
endif()
# NCCL for CUDA tensors: needs a CUDA torch built with it; off unless asked for.
option(SYMP_WITH_NCCL "Build c10d's NCCL process group (CUDA torch only)" OFF)
message(STATUS "symp: c10d gloo ${SYMP_HAVE_GLOO}, nccl ${SYMP_WITH_NCCL}")

# Torch's exported flags carry -D_GLIBCXX_USE_CXX11_ABI and friends; keep them to torch's consumers.
message(STATUS "symp: torch ${Torch_VERSION} (${TORCH_LIBRARIES})")
