#include "symp/affect/affect.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/rng.h"
#include "symp/io/jsonl.h"

namespace symp::affect {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

void check_value(double value, const std::string& what, const char* field, bool clamping) {
  if (!std::isfinite(value))
    throw InputError(fmt::format("{}: {} is not a finite number ({})", what, field, value));
  if (!clamping && (value < -1.0 || value > 1.0)) {
    throw InputError(fmt::format("{}: {} = {} is outside [-1, 1]", what, field, value));
  }
}

double parse_number(const std::string& text, const std::string& what) {
  const char* begin = text.c_str();
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  while (end && std::isspace(static_cast<unsigned char>(*end))) ++end;
  if (end == begin || (end && *end != '\0')) throw InputError(what + ": '" + text + "' is not a number");
  return value;
}

}  // namespace

VA make_va(double valence, double arousal, const std::string& what) {
  check_value(valence, what, "valence", false);
  check_value(arousal, what, "arousal", false);
  return {valence, arousal};
}

VA clamp_va(double valence, double arousal, const std::string& what) {
  check_value(valence, what, "valence", true);
  check_value(arousal, what, "arousal", true);
  return {std::clamp(valence, -1.0, 1.0), std::clamp(arousal, -1.0, 1.0)};
}

VA parse_va(const std::string& text) {
  auto comma = text.find(',');
  if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos) {
    throw InputError("--va '" + text + "': expected two numbers 'valence,arousal'");
  }
  const std::string what = "--va " + text;
  return make_va(parse_number(text.substr(0, comma), what), parse_number(text.substr(comma + 1), what), what);
}

const AnchorSet& AnchorSet::builtin() {
  static const AnchorSet set = load(data_path("affect/anchors.json").string());
  return set;
}

AnchorSet AnchorSet::load(const std::string& path) {
  return with_context(path, [&] {
    auto doc = io::read_json(path);
    const auto& list = io::require_field(doc, "anchors", "anchors file");
    if (!list.is_array() || list.empty()) throw InputError("field 'anchors': expected a non-empty array");
    AnchorSet set;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string ctx = fmt::format("anchors[{}]", i);
      Anchor anchor;
      anchor.name = lower(io::require_string(list[i], "name", ctx));
      anchor.va = make_va(io::require_number(list[i], "valence", ctx),
                          io::require_number(list[i], "arousal", ctx), ctx + " (" + anchor.name + ")");
      if (set.contains(anchor.name)) throw InputError(ctx + ": duplicate anchor '" + anchor.name + "'");
      set.anchors_.push_back(anchor);
    }
    return set;
  });
}

bool AnchorSet::contains(const std::string& name) const {
  const auto key = lower(name);
  return std::any_of(anchors_.begin(), anchors_.end(), [&](const Anchor& a) { return a.name == key; });
}

const Anchor& AnchorSet::find(const std::string& name) const {
  const auto key = lower(name);
  for (const auto& anchor : anchors_) {
    if (anchor.name == key) return anchor;
  }
  std::string known;
  for (const auto& anchor : anchors_) known += (known.empty() ? "" : ", ") + anchor.name;
  throw InputError("unknown emotion '" + name + "' (known: " + known + ")");
}

const Anchor& AnchorSet::nearest(const VA& point) const {
  const Anchor* best = &anchors_.front();
  double best_d = INFINITY;
  for (const auto& anchor : anchors_) {
    const double dv = anchor.va.valence - point.valence, da = anchor.va.arousal - point.arousal;
    const double d = dv * dv + da * da;
    if (d < best_d) {
      best_d = d;
      best = &anchor;
    }
  }
  return *best;
}

VA interpolate(const VA& a, const VA& b, double t) {
  if (!std::isfinite(t) || t < 0.0 || t > 1.0)
    throw InputError(fmt::format("interpolation t = {} is outside [0, 1]", t));
  // (1-t)a + tb rather than a + t(b-a): the end points come out exactly.
  return {(1.0 - t) * a.valence + t * b.valence, (1.0 - t) * a.arousal + t * b.arousal};
}

VA add_noise(const VA& point, double sigma, Rng& rng) {
  if (!std::isfinite(sigma) || sigma < 0.0)
    throw InputError(fmt::format("VA noise sigma = {} must be >= 0", sigma));
  // Valence is drawn before arousal, as in the reference ablation.
  const double dv = sigma * rng.normal();
  const double da = sigma * rng.normal();
  return clamp_va(point.valence + dv, point.arousal + da, "noisy VA");
}

std::string system_prompt(const std::optional<VA>& condition) {
  static const std::string kPrefix = "Please respond in English. User emotion ";
  if (!condition) return kPrefix + "N/A";
  const VA va = clamp_va(condition->valence, condition->arousal, "condition");
  // Two decimals as Python's f"{x:.2f}" writes them (the reference builds the string that way).
  return kPrefix + fmt::format("(valence={:.2f}, arousal={:.2f})", va.valence, va.arousal);
}

}  // namespace symp::affect
