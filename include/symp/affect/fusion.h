#pragma once
// Sensor fusion (PAPER.md section 6): a classifier's probabilities over its own labels become one VA
// point, the probability-weighted mean of the anchors the labels map to. Label maps are data files
// (data/affect/taxonomies/<name>.json) so a user can add a taxonomy without touching code.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "symp/affect/affect.h"

namespace symp::affect {

struct Taxonomy {
  std::string name;                 // e.g. "isear"
  std::vector<std::string> labels;  // in file order
  // Where each label goes: a VA point, or nullopt for a label deliberately left out (its probability
  // mass is dropped before renormalising, as the reference does with ISEAR's shame and guilt).
  std::map<std::string, std::optional<VA>> targets;
  std::map<std::string, std::string> mapped_to;  // label -> anchor name or "va" or "excluded", for display
};

// Loads a built-in taxonomy by name (affectnet, isear, seed7, text7) or a JSON file by path.
// File format: {"name": ..., "labels": {"joy": "happy", "shame": null, "contempt": {"valence": -0.65,
// "arousal": 0.15}}}. Anchor names are resolved against `anchors`.
Taxonomy load_taxonomy(const std::string& name_or_path, const AnchorSet& anchors = AnchorSet::builtin());
// Names of the built-in taxonomies.
std::vector<std::string> builtin_taxonomies();

using Probabilities = std::vector<std::pair<std::string, double>>;

// Parses "joy=0.7,fear=0.3".
Probabilities parse_probs(const std::string& text);

struct Fusion {
  VA va;                     // the fused point
  double total = 0.0;        // sum of the probabilities given
  double excluded = 0.0;     // probability mass on labels left out of the map
  bool renormalised = false; // the probabilities did not sum to 1 and were rescaled
};

// Fuses probabilities over `taxonomy`'s labels. An unknown label, a negative or non-finite probability,
// or no mass on mapped labels is an InputError; a sum other than 1 (beyond 1e-6) is renormalised with a
// warning on the log.
Fusion fuse(const Taxonomy& taxonomy, const Probabilities& probs);

}  // namespace symp::affect
