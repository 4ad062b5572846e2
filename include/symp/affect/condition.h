#pragma once
// Where the affect condition of a request comes from: an emotion name, an explicit VA point, an
// interpolation between two emotions, a sensor's probability distribution, or nothing (N/A). Shared by
// `symp affect` and `symp infer`, so both resolve a condition the same way.
#include <optional>
#include <string>

#include "symp/affect/affect.h"
#include "symp/affect/fusion.h"

namespace symp::affect {

// Where a condition comes from. Parsed once from the options; its name is what files and logs show.
enum class ConditionSource { Emotion, Va, Interpolate, Sensor, None };
// "emotion", "va", "interpolate", "sensor", "none".
std::string condition_source_name(ConditionSource source);

struct ConditionOptions {
  std::string emotion;       // an anchor name, e.g. "excited"
  std::string va;            // "V,A", e.g. "0.3,-0.2"
  std::string interpolate;   // "A,B": two anchor names
  double t = -1.0;           // position from A (0) to B (1); required with `interpolate`
  std::string taxonomy;      // a built-in taxonomy name or a JSON file, with `probs`
  std::string probs;         // "label=p,label=p"
  bool none = false;         // no condition: the prompt says N/A
  double noise_sigma = 0.0;  // Gaussian noise on each coordinate, then clamped (the robustness ablation)

  // Exactly one source may be set (or none, meaning N/A); UsageError naming the conflicting options.
  void validate() const;
  // Which source is set (None when none is: N/A).
  ConditionSource source() const;
};

struct Condition {
  std::optional<VA> requested;  // before noise; nullopt = N/A
  std::optional<VA> used;       // after noise (equal to requested when sigma is 0)
  ConditionSource source = ConditionSource::None;
  std::string label;  // e.g. "excited", "happy->sad@0.25", "va(0.30,-0.20)", "isear", "N/A"
};

// Resolves the options to a point; `rng` draws the noise (valence first, then arousal).
Condition resolve_condition(const ConditionOptions& options, Rng& rng,
                            const AnchorSet& anchors = AnchorSet::builtin());

}  // namespace symp::affect
