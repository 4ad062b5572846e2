// Prosody throughput: symp's seven features against Praat's pitch + intensity, on the same files in the
// same run. Praat is one process looping over the files (`To Pitch (ac)` with its defaults and
// `To Intensity`), as in ../shared/BENCHMARKS.md; symp measures all seven features (F0 statistics,
// RMS energy, STFT centroid, syllable nuclei) on `threads` workers, file reading included.
//
//   bench_prosody [files=200] [threads=2]
#include "symp/core/log.h"
#include "symp/core/process.h"
#include "symp/io/audio.h"
#include "symp/prosody/eval.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/resource.h>

namespace fs = std::filesystem;

namespace {
// CPU seconds (user + system) of this process, or of its finished children.
double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  symp::configure_process(argv);  // as the symp binary runs (symp/core/process.h)
  const int nfiles = argc > 1 ? std::atoi(argv[1]) : 200;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  symp::set_log_level(symp::LogLevel::Warn);
  const fs::path dir = fs::temp_directory_path() / "symp_bench_prosody";
  fs::create_directories(dir);

  // Test material: espeak-ng sentences across voices, pitches and rates (made once, kept for reruns).
  const char* voices[] = {"en+f3", "en-us+m3", "en+f4", "en+m1", "en-gb+f2", "en+m4"};
  const char* texts[] = {
      "I understand how frustrating that must be, so let us take it one step at a time.",
      "That is wonderful news, and I am really happy for you, tell me more about it!",
      "It sounds like a long day. Maybe rest for a while, and we can plan tomorrow together.",
      "Here is a simple way to start: write down the three things that matter most this week.",
  };
  std::vector<std::string> files;
  double audio_s = 0.0;
  for (int i = 0; i < nfiles; ++i) {
    const fs::path wav = dir / fmt::format("f{:04d}.wav", i);
    if (!fs::exists(wav)) {
      const std::string cmd =
          fmt::format("espeak-ng -w '{}' -v {} -p {} -s {} \"{}\"", wav.string(), voices[i % 6],
                      20 + (i * 7) % 70, 110 + (i * 13) % 150, texts[i % 4]);
      if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "espeak-ng failed: %s\n", cmd.c_str());
        return 1;
      }
    }
    files.push_back(wav.string());
    audio_s += symp::io::probe_audio(wav.string()).duration();
  }

  // Praat: one process, a loop over a file list.
  const fs::path list = dir / "files.txt", script = dir / "bench.praat";
  {
    std::ofstream l(list);
    for (const auto& f : files) l << f << "\n";
    std::ofstream s(script);
    s << "form b\n  sentence list files.txt\nendform\n"
         "strings = Read Strings from raw text file: list$\nn = Get number of strings\nstopwatch\n"
         "for i to n\n  selectObject: strings\n  f$ = Get string: i\n  s = Read from file: f$\n"
         "  p = To Pitch (ac): 0, 75, 15, \"no\", 0.03, 0.45, 0.01, 0.35, 0.14, 600\n"
         "  selectObject: s\n  t = To Intensity: 100, 0, \"yes\"\n  removeObject: s, p, t\nendfor\n"
         "writeInfoLine: stopwatch\n";
  }
  const double children0 = cpu_seconds(RUSAGE_CHILDREN);
  auto t0 = std::chrono::steady_clock::now();
  const std::string praat_cmd = fmt::format("praat --run '{}' '{}' > '{}'", script.string(), list.string(),
                                            (dir / "praat_out.txt").string());
  if (std::system(praat_cmd.c_str()) != 0) {
    std::fprintf(stderr, "praat failed: %s\n", praat_cmd.c_str());
    return 1;
  }
  const double praat_s = seconds_since(t0);
  const double praat_cpu = cpu_seconds(RUSAGE_CHILDREN) - children0;

  // symp: all seven features, `threads` workers.
  std::vector<symp::prosody::EvalItem> items = symp::prosody::collect_audio(files, "bench");
  symp::prosody::FeatureOptions options;
  const double self0 = cpu_seconds(RUSAGE_SELF);
  t0 = std::chrono::steady_clock::now();
  const auto rows = symp::prosody::measure_all(items, options, threads);
  const double symp_s = seconds_since(t0);
  const double symp_cpu = cpu_seconds(RUSAGE_SELF) - self0;
  size_t failed = 0;
  for (const auto& r : rows) failed += !r.error.empty();

  std::printf("files %d, audio %.1f s\n", nfiles, audio_s);
  std::printf("praat  pitch + intensity, 1 process : %6.2f s wall (%5.0fx real time), %6.2f s CPU\n", praat_s,
              audio_s / praat_s, praat_cpu);
  std::printf(
      "symp   7 features, %d threads        : %6.2f s wall (%5.0fx real time), %6.2f s CPU (%zu failed)\n",
      threads, symp_s, audio_s / symp_s, symp_cpu, failed);
  std::printf("throughput ratio symp / praat, wall: %.2fx\n", praat_s / symp_s);
  // On a shared, loaded machine wall time depends on what else runs; CPU time per unit of work does
  // not, and with `threads` idle cores the wall ratio approaches this figure.
  std::printf("per-core ratio (praat CPU / symp CPU): %.2fx, so with %d free cores: %.2fx\n",
              praat_cpu / symp_cpu, threads, threads * praat_cpu / symp_cpu);
  return failed ? 1 : 0;
}
