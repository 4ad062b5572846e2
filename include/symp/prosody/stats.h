#pragma once
// Rank correlation for the prosody table: Spearman's rho with average ranks for ties, the two-sided
// p-value of scipy.stats.spearmanr (Student t with n - 2 degrees of freedom), and an optional
// permutation p-value.
//
//   auto c = symp::prosody::spearman(f0_means, arousals);   // c.rho, c.p, c.n
#include <cstddef>
#include <cstdint>
#include <vector>

namespace symp::prosody {

// Ranks 1..n; tied values share the mean of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& values);

// Pearson correlation; NaN when either side is constant or n < 2.
double pearson(const std::vector<double>& x, const std::vector<double>& y);

// Regularised incomplete beta I_x(a, b) (continued fraction, Lentz's method).
double incomplete_beta(double a, double b, double x);

// Two-sided tail probability P(|T| >= |t|) of Student's t with df degrees of freedom.
double student_t_two_sided(double t, double df);

struct Correlation {
  double rho = 0.0;     // Spearman's rho; NaN when undefined (n < 3 or a constant side)
  double p = 0.0;       // two-sided p-value, t approximation; NaN when rho is
  size_t n = 0;         // pairs used
  double p_perm = 0.0;  // permutation p-value (|rho| at least as large), NaN unless permutations > 0
};

// Pairs where either value is NaN are dropped first. permutations > 0 adds p_perm, estimated as
// (1 + hits) / (1 + permutations) from shuffles drawn with `seed`.
Correlation spearman(const std::vector<double>& x, const std::vector<double>& y, int permutations = 0,
                     uint64_t seed = 42);

}  // namespace symp::prosody
