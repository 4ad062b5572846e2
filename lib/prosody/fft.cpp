#include "fft.h"

#include "symp/core/error.h"

#include <fftw3.h>

#include <map>
#include <memory>
#include <mutex>

#include "symp/core/fftw_lock.h"

namespace symp::prosody::detail {

RealFft::RealFft(int n, bool measure) : n_(n) {
  if (n < 2) throw RuntimeError("FFT size must be at least 2");
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  real_ = fftw_alloc_real(static_cast<size_t>(n));
  auto* spec = fftw_alloc_complex(static_cast<size_t>(n / 2 + 1));
  spectrum_ = reinterpret_cast<std::complex<double>*>(spec);  // layout-compatible (FFTW manual 4.1.1)
  const unsigned flags = measure ? FFTW_MEASURE : FFTW_ESTIMATE;
  forward_plan_ = fftw_plan_dft_r2c_1d(n, real_, spec, flags);
  backward_plan_ = fftw_plan_dft_c2r_1d(n, spec, real_, flags);
  if (!real_ || !spec || !forward_plan_ || !backward_plan_) throw RuntimeError("FFTW could not plan an FFT");
}

RealFft::~RealFft() {
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  if (forward_plan_) fftw_destroy_plan(static_cast<fftw_plan>(forward_plan_));
  if (backward_plan_) fftw_destroy_plan(static_cast<fftw_plan>(backward_plan_));
  fftw_free(real_);
  fftw_free(spectrum_);
}

RealFft& thread_fft(int n) {
  thread_local std::map<int, std::unique_ptr<RealFft>> cache;
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<RealFft>(n);
  return *slot;
}

void RealFft::forward() {
  fftw_execute(static_cast<fftw_plan>(forward_plan_));
}
void RealFft::backward() {
  fftw_execute(static_cast<fftw_plan>(backward_plan_));
}

}  // namespace symp::prosody::detail
