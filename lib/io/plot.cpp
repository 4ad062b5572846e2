#include "symp/io/plot.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include <fmt/format.h>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"

#ifdef SYMP_HAVE_PLOTS
#include <plplot.h>
#endif

namespace symp::io {
#ifdef SYMP_HAVE_PLOTS
namespace {

std::mutex g_plplot_mutex;  // PLplot keeps one global state

// A colour-blind-friendly palette (Okabe-Ito, then extras), set into cmap0 slots 1..12.
constexpr int kPalette[][3] = {{0, 114, 178},  {230, 159, 0}, {0, 158, 115},  {204, 121, 167},
                               {86, 180, 233}, {213, 94, 0},  {240, 228, 66}, {0, 0, 0},
                               {120, 120, 120}, {153, 0, 0},  {0, 90, 50},    {100, 60, 160}};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

void range_of(const std::vector<Series>& series, bool x, double& lo, double& hi) {
  lo = INFINITY;
  hi = -INFINITY;
  for (const auto& s : series) {
    for (double v : x ? s.x : s.y) {
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  const double pad = 0.04 * (hi - lo);
  lo -= pad;
  hi += pad;
}

}  // namespace
#endif

void plot_png(const std::string& path, const Figure& figure) {
#ifndef SYMP_HAVE_PLOTS
  log_warn("plot", "{}: not drawn (this build has no PLplot: SYMP_WITH_PLOTS=OFF)", path);
  (void)figure;
  return;
#else
  std::lock_guard<std::mutex> lock(g_plplot_mutex);
  AtomicFile file(path);
  plsdev("pngcairo");
  plsfnam(file.temp_path().c_str());
  plspage(0, 0, figure.width, figure.height, 0, 0);
  plscolbg(255, 255, 255);
  for (int i = 0; i < kPaletteSize; ++i) plscol0(i + 1, kPalette[i][0], kPalette[i][1], kPalette[i][2]);
  plscol0(15, 0, 0, 0);  // axes and text
  plinit();
  double xmin = figure.xmin, xmax = figure.xmax, ymin = figure.ymin, ymax = figure.ymax;
  if (xmin == xmax) range_of(figure.series, true, xmin, xmax);
  if (ymin == ymax) range_of(figure.series, false, ymin, ymax);
  plcol0(15);
  const bool has_legend = figure.legend && std::any_of(figure.series.begin(), figure.series.end(),
                                                       [](const Series& s) { return !s.label.empty(); });
  pladv(0);
  // Leave the right quarter of the page to the legend when there is one.
  plvpor(0.1, has_legend ? 0.74 : 0.95, 0.12, 0.9);
  plwind(xmin, xmax, ymin, ymax);
  plbox("bcnst", 0.0, 0, "bcnstv", 0.0, 0);
  pllab(figure.xlabel.c_str(), figure.ylabel.c_str(), figure.title.c_str());

  std::vector<PLINT> colors, text_colors, line_colors, line_styles, symbol_colors, opts;
  std::vector<PLFLT> symbol_scales, line_widths;
  std::vector<PLINT> symbol_numbers;
  std::vector<std::string> labels, symbols;
  int next = 0;
  for (const auto& s : figure.series) {
    const int color = 1 + ((s.color >= 0 ? s.color : next++) % kPaletteSize);
    plcol0(color);
    const auto n = static_cast<PLINT>(std::min(s.x.size(), s.y.size()));
    if (n > 0) {
      if (s.points) {
        plpoin(n, s.x.data(), s.y.data(), 17);
      } else {
        plwidth(2.0);
        plline(n, s.x.data(), s.y.data());
        plwidth(1.0);
      }
    }
    labels.push_back(s.label);
    symbols.push_back("#(728)");
    opts.push_back(s.points ? PL_LEGEND_SYMBOL : PL_LEGEND_LINE);
    text_colors.push_back(15);
    line_colors.push_back(color);
    line_styles.push_back(1);
    line_widths.push_back(2.0);
    symbol_colors.push_back(color);
    symbol_scales.push_back(1.0);
    symbol_numbers.push_back(1);
  }
  if (has_legend) {
    std::vector<const char*> label_ptrs, symbol_ptrs;
    for (auto& l : labels) label_ptrs.push_back(l.c_str());
    for (auto& s : symbols) symbol_ptrs.push_back(s.c_str());
    PLFLT legend_w, legend_h;
    plcol0(15);
    pllegend(&legend_w, &legend_h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_OUTSIDE | PL_POSITION_RIGHT,
             0.02, 0.0, 0.06, 0, 15, 1, 0, 0, static_cast<PLINT>(labels.size()), opts.data(), 0.6, 0.7, 1.6, 0.0,
             text_colors.data(), label_ptrs.data(), nullptr, nullptr, nullptr, nullptr, line_colors.data(),
             line_styles.data(), line_widths.data(), symbol_colors.data(), symbol_scales.data(),
             symbol_numbers.data(), symbol_ptrs.data());
  }
  plend();
  if (!fs::exists(file.temp_path()) || fs::file_size(file.temp_path()) == 0) {
    throw RuntimeError(path + ": PLplot wrote no image (is plplot-driver-cairo installed?)");
  }
  file.commit();
#endif
}

void histogram_png(const std::string& path, const std::vector<double>& values, int bins, const std::string& title,
                   const std::string& xlabel) {
  if (bins <= 0) throw RuntimeError("histogram: bins must be > 0");
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) hi = lo + 1;
  const double width = (hi - lo) / bins;
  std::vector<double> counts(static_cast<size_t>(bins), 0.0);
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    auto b = std::min(bins - 1, static_cast<int>((v - lo) / width));
    counts[static_cast<size_t>(b)] += 1;
  }
  // Draw the bars as a step outline: one series, closed at zero.
  Series bars;
  bars.label = fmt::format("n = {}", values.size());
  bars.x.push_back(lo);
  bars.y.push_back(0);
  for (int b = 0; b < bins; ++b) {
    const double x0 = lo + b * width, x1 = x0 + width;
    bars.x.insert(bars.x.end(), {x0, x1});
    bars.y.insert(bars.y.end(), {counts[b], counts[b]});
  }
  bars.x.push_back(hi);
  bars.y.push_back(0);
  Figure fig;
  fig.title = title;
  fig.xlabel = xlabel;
  fig.ylabel = "count";
  fig.series.push_back(bars);
  fig.ymin = 0;
  fig.ymax = std::max(1.0, *std::max_element(counts.begin(), counts.end()) * 1.08);
  fig.xmin = lo;
  fig.xmax = hi;
  plot_png(path, fig);
}

}  // namespace symp::io
