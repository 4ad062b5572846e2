#pragma once
// PNG figures through PLplot's cairo driver: lines, scatter points, histograms. Calls are serialised
// internally (PLplot keeps global state), so workers may plot concurrently.
#include <string>
#include <vector>

namespace symp::io {

struct Series {
  std::string label;
  std::vector<double> x, y;
  bool points = false;  // scatter points instead of a line
  int color = -1;       // palette index; -1 picks the next one
};

struct Figure {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
  int width = 900, height = 600;  // pixels
  bool legend = true;
  // Axis limits; when min == max they are taken from the data.
  double xmin = 0, xmax = 0, ymin = 0, ymax = 0;
};

// Writes the figure as a PNG (atomically). RuntimeError when PLplot cannot. In a build without PLplot
// (SYMP_WITH_PLOTS=OFF, e.g. a CUDA machine without it) it logs a warning and writes nothing.
void plot_png(const std::string& path, const Figure& figure);

// A histogram of `values` with `bins` equal bins.
void histogram_png(const std::string& path, const std::vector<double>& values, int bins,
                   const std::string& title, const std::string& xlabel);

}  // namespace symp::io
