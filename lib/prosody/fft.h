#pragma once
// Internal to lib/prosody: a real FFT of one size through FFTW (double precision), with its own
// aligned buffers so that each worker thread holds one and executes it without locking. Planning is
// serialised because FFTW's planner is not thread-safe.
#include <complex>

namespace symp::prosody::detail {

class RealFft {
 public:
  explicit RealFft(int n, bool measure = false);  // measure: time candidate plans (slower to plan)
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  int size() const { return n_; }
  double* real() { return real_; }                        // n values
  std::complex<double>* spectrum() { return spectrum_; }  // n / 2 + 1 bins
  void forward();                                         // real() -> spectrum()
  void backward();  // spectrum() -> real(), unnormalised (a forward-backward pair scales by n)

 private:
  int n_;
  double* real_ = nullptr;
  std::complex<double>* spectrum_ = nullptr;
  void* forward_plan_ = nullptr;
  void* backward_plan_ = nullptr;
};

// This thread's FFT of size n, planned on first use and kept until the thread ends, so that a worker
// measuring many files plans each size once. FFTW_ESTIMATE, not MEASURE: a measured plan can differ from
// run to run and with it the last bits of every feature; estimated plans keep runs bit-identical.
RealFft& thread_fft(int n);

}  // namespace symp::prosody::detail
