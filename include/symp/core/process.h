#pragma once
// Process-wide runtime settings that torch's CPU kernels are sensitive to, applied first thing in main().
//
// OpenMP wait policy. libgomp's threads spin for a while after each parallel region before they sleep.
// libtorch runs its own OpenMP threads and calls OpenBLAS, which runs a second pool on the same cores; the
// spinning threads then hold the cores the BLAS threads need. On the 2-core machine this made the
// flow-matching decoder 2.5x slower and tiny-model training 1.4x slower than with OMP_WAIT_POLICY=PASSIVE
// (docs/build.md). libgomp reads the variable once, when it is loaded, so the program starts again with it.
//
// Large blocks. glibc serves blocks above its mmap threshold (128 KiB, rising to at most 32 MiB) with fresh
// mappings that the kernel zero-fills on every allocation; torch's CPU allocator has no cache, so a model
// that allocates tens of MB per operator pays page faults each time. The threshold is set to its maximum
// and freed memory is kept for reuse (decoding 100 speech tokens: 16.0 s -> 13.5 s).
//
//   int main(int argc, char** argv) {
//     symp::configure_process(argv);  // first statement: may start the program again
namespace symp {

// When OMP_WAIT_POLICY is unset, sets it to PASSIVE and re-executes this program (/proc/self/exe) with the
// same arguments (a value the user set, ACTIVE included, is kept); then tunes malloc as above. Returns
// normally when no restart was needed or exec failed.
void configure_process(char** argv);

}  // namespace symp
