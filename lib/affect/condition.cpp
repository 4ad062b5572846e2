#include "symp/affect/condition.h"

#include <fmt/format.h>

#include "symp/core/error.h"

namespace symp::affect {

Condition resolve_unchecked(const ConditionOptions& options, Rng& rng, const AnchorSet& anchors);

std::string condition_source_name(ConditionSource source) {
  switch (source) {
    case ConditionSource::Emotion:
      return "emotion";
    case ConditionSource::Va:
      return "va";
    case ConditionSource::Interpolate:
      return "interpolate";
    case ConditionSource::Sensor:
      return "sensor";
    case ConditionSource::None:
      return "none";
  }
  return "none";
}

ConditionSource ConditionOptions::source() const {
  if (!emotion.empty()) return ConditionSource::Emotion;
  if (!va.empty()) return ConditionSource::Va;
  if (!interpolate.empty()) return ConditionSource::Interpolate;
  if (!taxonomy.empty() || !probs.empty()) return ConditionSource::Sensor;
  return ConditionSource::None;
}

void ConditionOptions::validate() const {
  const int set = int(!emotion.empty()) + int(!va.empty()) + int(!interpolate.empty()) +
                  int(!taxonomy.empty() || !probs.empty()) + int(none);
  if (set > 1)
    throw UsageError("give one condition: --emotion, --va, --interpolate, --taxonomy/--probs or --none");
  if (!interpolate.empty() && !(t >= 0.0 && t <= 1.0)) {
    throw UsageError(fmt::format("--t: must be in [0, 1] with --interpolate, got {}", t));
  }
  if (interpolate.empty() && t != -1.0) throw UsageError("--t: only meaningful with --interpolate");
  if (taxonomy.empty() != probs.empty()) throw UsageError("--taxonomy and --probs go together");
  if (!(noise_sigma >= 0.0)) throw UsageError(fmt::format("--va-noise: must be >= 0, got {}", noise_sigma));
}

Condition resolve_condition(const ConditionOptions& options, Rng& rng, const AnchorSet& anchors) {
  options.validate();
  try {
    return resolve_unchecked(options, rng, anchors);
  } catch (const InputError& e) {
    throw UsageError(e.what());  // the values came from options: a usage error (exit 2)
  }
}

Condition resolve_unchecked(const ConditionOptions& options, Rng& rng, const AnchorSet& anchors) {
  Condition c;
  c.source = options.source();
  if (c.source == ConditionSource::Emotion) {
    const auto& a = anchors.find(options.emotion);
    c.requested = a.va;
    c.label = a.name;
  } else if (c.source == ConditionSource::Va) {
    c.requested = parse_va(options.va);
    c.label = fmt::format("va({:.2f},{:.2f})", c.requested->valence, c.requested->arousal);
  } else if (c.source == ConditionSource::Interpolate) {
    const auto comma = options.interpolate.find(',');
    if (comma == std::string::npos) throw UsageError("--interpolate: expected two emotions 'A,B'");
    const auto& a = anchors.find(options.interpolate.substr(0, comma));
    const auto& b = anchors.find(options.interpolate.substr(comma + 1));
    c.requested = interpolate(a.va, b.va, options.t);
    c.label = fmt::format("{}->{}@{:g}", a.name, b.name, options.t);
  } else if (c.source == ConditionSource::Sensor) {
    const auto tax = load_taxonomy(options.taxonomy, anchors);
    c.requested = fuse(tax, parse_probs(options.probs)).va;
    c.label = tax.name;
  } else {
    c.label = "N/A";
  }
  c.used = c.requested;
  if (c.requested && options.noise_sigma > 0.0) c.used = add_noise(*c.requested, options.noise_sigma, rng);
  return c;
}

}  // namespace symp::affect
