#include "symp/affect/fusion.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/io/jsonl.h"

namespace symp::affect {
namespace {

const std::vector<std::string> kBuiltin = {"affectnet", "isear", "seed7", "text7"};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

std::vector<std::string> builtin_taxonomies() {
  return kBuiltin;
}

Taxonomy load_taxonomy(const std::string& name_or_path, const AnchorSet& anchors) {
  std::string path = name_or_path;
  for (const auto& name : kBuiltin) {
    if (name == name_or_path) path = data_path("affect/taxonomies/" + name + ".json").string();
  }
  if (!fs::exists(path)) {
    throw InputError(fmt::format("taxonomy '{}': neither a built-in name ({}) nor a file", name_or_path,
                                 fmt::join(kBuiltin, ", ")));
  }
  return with_context(path, [&] {
    auto doc = io::read_json(path);
    Taxonomy tax;
    tax.name = doc.value("name", fs::path(path).stem().string());
    const auto& labels = io::require_field(doc, "labels", "taxonomy");
    if (!labels.is_object() || labels.empty())
      throw InputError("field 'labels': expected a non-empty object");
    for (const auto& [label, target] : labels.items()) {
      const std::string ctx = "labels." + label;
      tax.labels.push_back(label);
      if (target.is_null()) {
        tax.targets[label] = std::nullopt;
        tax.mapped_to[label] = "excluded";
      } else if (target.is_string()) {
        const auto& anchor = anchors.find(target.get<std::string>());
        tax.targets[label] = anchor.va;
        tax.mapped_to[label] = anchor.name;
      } else if (target.is_object()) {
        tax.targets[label] = make_va(io::require_number(target, "valence", ctx),
                                     io::require_number(target, "arousal", ctx), ctx);
        tax.mapped_to[label] = "va";
      } else {
        throw InputError(ctx + ": expected an anchor name, a {valence, arousal} object, or null");
      }
    }
    return tax;
  });
}

Probabilities parse_probs(const std::string& text) {
  Probabilities probs;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const auto item = trim(text.substr(start, end - start));
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("--probs: '" + item + "' is not label=probability");
    const auto value_text = trim(item.substr(eq + 1));
    char* stop = nullptr;
    const double value = std::strtod(value_text.c_str(), &stop);
    if (value_text.empty() || *stop != '\0') throw InputError("--probs: '" + item + "': not a number");
    probs.emplace_back(trim(item.substr(0, eq)), value);
    start = end + 1;
  }
  return probs;
}

Fusion fuse(const Taxonomy& taxonomy, const Probabilities& probs) {
  Fusion out;
  double v = 0.0, a = 0.0, mapped = 0.0;
  for (const auto& [label, p] : probs) {
    auto it = taxonomy.targets.find(label);
    if (it == taxonomy.targets.end()) {
      throw InputError(fmt::format("taxonomy '{}': unknown label '{}' (labels: {})", taxonomy.name, label,
                                   fmt::join(taxonomy.labels, ", ")));
    }
    if (!std::isfinite(p) || p < 0.0) {
      throw InputError(fmt::format("label '{}': probability {} must be finite and >= 0", label, p));
    }
    out.total += p;
    if (!it->second) {
      out.excluded += p;
      continue;
    }
    mapped += p;
    v += p * it->second->valence;
    a += p * it->second->arousal;
  }
  if (!(mapped > 0.0)) {
    throw InputError(
        fmt::format("taxonomy '{}': no probability mass on labels that map to the VA plane", taxonomy.name));
  }
  if (std::abs(out.total - 1.0) > 1e-6) {
    out.renormalised = true;
    log_warn("affect", "probabilities sum to {:.6g}, not 1: renormalised", out.total);
  }
  if (out.excluded > 0.0) {
    log_warn("affect",
             "{:.3g} of the probability mass is on labels left out of '{}'; the rest is renormalised",
             out.excluded, taxonomy.name);
  }
  out.va = clamp_va(v / mapped, a / mapped, "fused VA");
  return out;
}

}  // namespace symp::affect
