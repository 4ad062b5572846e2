#include "symp/prosody/stats.h"

#include "symp/core/error.h"
#include "symp/core/rng.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace symp::prosody {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The continued fraction of I_x(a, b) (Abramowitz & Stegun 26.5.8), evaluated by modified Lentz.
double beta_fraction(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    // even step
    double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + num * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + num / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    h *= d * c;
    // odd step
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + num * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + num / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1.0) < eps) break;
  }
  return h;
}
}  // namespace

std::vector<double> average_ranks(const std::vector<double>& values) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = 0.5 * (static_cast<double>(i) + static_cast<double>(j)) + 1.0;  // mean of i+1 .. j+1
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  if (n != y.size()) throw RuntimeError("pearson: vectors of different length");
  if (n < 2) return kNaN;
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0.0 || syy == 0.0) return kNaN;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

double incomplete_beta(double a, double b, double x) {
  if (!(a > 0.0 && b > 0.0) || !(x >= 0.0 && x <= 1.0)) return kNaN;
  if (x == 0.0 || x == 1.0) return x;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  // The fraction converges fast for x < (a + 1) / (a + b + 2); otherwise use I_x(a,b) = 1 - I_{1-x}(b,a).
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_fraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * beta_fraction(b, a, 1.0 - x) / b;
}

double student_t_two_sided(double t, double df) {
  if (std::isnan(t) || !(df > 0.0)) return kNaN;
  if (std::isinf(t)) return 0.0;
  return incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
}

Correlation spearman(const std::vector<double>& x, const std::vector<double>& y, int permutations,
                     uint64_t seed) {
  if (x.size() != y.size()) throw RuntimeError("spearman: vectors of different length");
  std::vector<double> xs, ys;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) continue;
    xs.push_back(x[i]);
    ys.push_back(y[i]);
  }
  Correlation c;
  c.n = xs.size();
  c.p_perm = kNaN;
  if (c.n < 3) {
    c.rho = c.p = kNaN;
    return c;
  }
  const std::vector<double> rx = average_ranks(xs);
  std::vector<double> ry = average_ranks(ys);
  c.rho = pearson(rx, ry);
  if (std::isnan(c.rho)) {
    c.p = kNaN;
    return c;
  }
  // scipy.stats.spearmanr: t = rho sqrt((n - 2) / ((1 + rho)(1 - rho))), two-sided, df = n - 2.
  const double df = static_cast<double>(c.n) - 2.0;
  const double denom = (1.0 + c.rho) * (1.0 - c.rho);
  c.p = denom <= 0.0 ? 0.0 : student_t_two_sided(c.rho * std::sqrt(df / denom), df);
  if (permutations > 0) {
    Rng rng(seed);
    size_t hits = 0;
    const double observed = std::fabs(c.rho) - 1e-12;  // tolerate rounding in equal shuffles
    for (int k = 0; k < permutations; ++k) {
      rng.shuffle(ry);
      const double r = pearson(rx, ry);
      if (!std::isnan(r) && std::fabs(r) >= observed) ++hits;
    }
    c.p_perm = (1.0 + static_cast<double>(hits)) / (1.0 + permutations);
  }
  return c;
}

}  // namespace symp::prosody
