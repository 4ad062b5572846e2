#pragma once
// A reader for the YAML subset GLM-4-Voice's decoder config.yaml uses (hyperpyyaml): block mappings and
// sequences by indentation, flow sequences and mappings, quoted and plain scalars, comments. Tags are read
// and dropped: `!new:Class` / `!name:f` keep their arguments (the mapping below them), `!ref <key>` is
// replaced by the top-level value it names, `!apply:f [...]` becomes null (a call made for its effect,
// such as seeding). The result is JSON, so config readers share one code path with config.json.
#include <string>

#include <nlohmann/json.hpp>

namespace symp::speech {

// InputError naming `source` and the line on anything outside the subset.
nlohmann::json parse_hyperpyyaml(const std::string& text, const std::string& source = "<yaml>");
nlohmann::json read_hyperpyyaml(const std::string& path);

}  // namespace symp::speech
