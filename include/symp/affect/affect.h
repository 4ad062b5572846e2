#pragma once
// The affect core: the valence-arousal (VA) plane, the 12 emotion anchors (data/affect/anchors.json),
// interpolation, noise, and the system-prompt strings of PAPER.md sections 1 and 2.
#include <optional>
#include <string>
#include <vector>

namespace symp {
class Rng;
}

namespace symp::affect {

// A point in the VA plane. Construct through make_va() (validating) or clamp_va() (clamping).
struct VA {
  double valence = 0.0;  // -1 (negative) .. +1 (positive)
  double arousal = 0.0;  // -1 (calm) .. +1 (activated)
};

// Validates a point: both values finite and within [-1, 1]; InputError naming `what` and the field.
VA make_va(double valence, double arousal, const std::string& what = "VA");
// Clamps each value to [-1, 1]; non-finite values are still an error.
VA clamp_va(double valence, double arousal, const std::string& what = "VA");
// Parses "V,A" (e.g. "0.3,-0.2") and validates it.
VA parse_va(const std::string& text);

struct Anchor {
  std::string name;  // lower-case emotion name, e.g. "happy"
  VA va;
};

// A set of named anchors. builtin() loads data/affect/anchors.json once.
class AnchorSet {
 public:
  static const AnchorSet& builtin();
  // Loads {"anchors": [{"name": ..., "valence": ..., "arousal": ...}, ...]}.
  static AnchorSet load(const std::string& path);

  // Case-insensitive lookup; InputError listing the known names when absent.
  const Anchor& find(const std::string& name) const;
  bool contains(const std::string& name) const;
  // The anchor closest in Euclidean distance (ties: the first in file order).
  const Anchor& nearest(const VA& point) const;
  const std::vector<Anchor>& all() const { return anchors_; }

 private:
  std::vector<Anchor> anchors_;
};

// The point a fraction t of the way from a to b (linear in the plane); t must lie in [0, 1].
VA interpolate(const VA& a, const VA& b, double t);

// Adds N(0, sigma^2) noise to each coordinate (valence drawn before arousal) and clamps to [-1, 1],
// as the VA-noise ablation does. sigma must be finite and >= 0.
VA add_noise(const VA& point, double sigma, Rng& rng);

// "Please respond in English. User emotion (valence=0.85, arousal=0.35)", or "... User emotion N/A"
// without a condition. Values are clamped to [-1, 1] and written with two decimals.
std::string system_prompt(const std::optional<VA>& condition);

}  // namespace symp::affect
