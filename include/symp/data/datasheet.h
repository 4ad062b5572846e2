#pragma once
// The datasheet of a generated corpus: counts per emotion, split and partition, hours of audio, a
// duration histogram, the backends and settings that made it, and the dedup statistics.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "symp/data/plan.h"
#include "symp/records/manifest.h"

namespace symp::data {

// Writes DIR/datasheet.json, DIR/datasheet.md and DIR/durations.png from the manifest records.
// `settings` is the effective configuration (no secrets); `backends` names the text, speech and
// dedup engines.
void write_datasheet(const std::string& out_dir, const std::vector<records::ManifestRecord>& manifest,
                     const CorpusPlan& plan, const nlohmann::json& settings, const nlohmann::json& backends);

}  // namespace symp::data
