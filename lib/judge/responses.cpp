#include "symp/judge/responses.h"

#include <algorithm>

#include "symp/affect/affect.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/io/jsonl.h"

namespace symp::judge {
namespace {

// The first of `keys` holding a string (or a number, written out).
std::string first_string(const io::Json& r, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (!r.contains(k)) continue;
    const auto& v = r[k];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
  }
  return "";
}

}  // namespace

ResponseSource ResponseSource::parse(const std::string& spec) {
  ResponseSource s;
  auto eq = spec.find('=');
  if (eq != std::string::npos && eq > 0 && spec.find('/') > eq) {
    s.system = spec.substr(0, eq);
    s.path = spec.substr(eq + 1);
  } else {
    s.path = spec;
  }
  if (s.path.empty()) throw UsageError("responses: '" + spec + "' names no file");
  return s;
}

std::vector<Response> read_responses(const std::vector<std::string>& specs, Setting default_setting) {
  const auto& anchors = affect::AnchorSet::builtin();
  std::vector<Response> out;
  for (const auto& spec : specs) {
    auto source = ResponseSource::parse(spec);
    fs::path base = fs::absolute(source.path).parent_path();
    std::string folder_name = base.filename().string();
    io::for_each_jsonl(source.path, [&](const io::Json& r, size_t line) {
      Response x;
      x.where = source.path + ":" + std::to_string(line);
      x.id = first_string(r, {"id"});
      if (x.id.empty()) throw InputError(x.where + ": field 'id' missing");
      x.system = !source.system.empty() ? source.system : first_string(r, {"system"});
      if (x.system.empty()) x.system = folder_name;
      std::string audio = first_string(r, {"response_audio", "audio", "wav"});
      if (!audio.empty()) x.audio = fs::path(audio).is_absolute() ? audio : (base / audio).string();
      std::string setting = first_string(r, {"setting", "split"});
      x.setting = setting.empty() ? default_setting : parse_setting(setting, x.where + ": field 'setting'");
      // The Emotional setting judges against the emotion in the user's voice (infer's query_emotion),
      // whatever condition the prompt carried (usually none).
      const std::string query_emotion = first_string(r, {"query_emotion"});
      if (x.setting == Setting::CommonEval) {
        // Real spoken questions: no emotion to judge against; the CommonEval rubric rates the answer.
        x.emotion = "";
      } else if (x.setting == Setting::Emotional && !query_emotion.empty()) {
        if (!anchors.contains(query_emotion))
          throw InputError(x.where + ": field 'query_emotion': '" + query_emotion + "' is not an anchor");
        const auto& a = anchors.find(query_emotion);
        x.emotion = a.name;
        x.valence = a.va.valence;
        x.arousal = a.va.arousal;
      } else {
        x.emotion = first_string(r, {"emotion", "condition"});
        bool has_va = r.contains("valence") && r["valence"].is_number() && r.contains("arousal") &&
                      r["arousal"].is_number();
        if (has_va) {
          auto va = affect::make_va(r["valence"].get<double>(), r["arousal"].get<double>(), x.where);
          x.valence = va.valence;
          x.arousal = va.arousal;
        }
        if (!x.emotion.empty() && anchors.contains(x.emotion)) {
          const auto& a = anchors.find(x.emotion);
          x.emotion = a.name;
          if (!has_va) {
            x.valence = a.va.valence;
            x.arousal = a.va.arousal;
          }
        } else if (has_va) {
          // An interpolated or noisy condition: named after the nearest anchor for the per-emotion means.
          x.emotion = anchors.nearest({x.valence, x.arousal}).name;
        } else if (x.emotion == "NA" || first_string(r, {"condition_source"}) == "none") {
          // infer's N/A condition (one of the reference's 19): no target to judge or compare against.
          x.emotion.clear();
          x.no_target = true;
        } else {
          throw InputError(x.where +
                           ": no emotion, condition, query_emotion (emotional setting) or "
                           "valence/arousal to judge against");
        }
      }
      x.transcript = first_string(r, {"transcript"});
      for (const char* f : {"response_duration", "duration"}) {
        if (r.contains(f) && r[f].is_number()) {
          x.duration = r[f].get<double>();
          break;
        }
      }
      x.text = first_string(r, {"response_text", "text"});
      x.query = first_string(r, {"query_id", "input", "query_text"});
      x.reference = first_string(r, {"reference_text", "reference"});
      out.push_back(std::move(x));
    });
  }
  return out;
}

std::vector<std::string> systems_of(const std::vector<Response>& responses) {
  std::vector<std::string> names;
  for (const auto& r : responses) {
    if (std::find(names.begin(), names.end(), r.system) == names.end()) names.push_back(r.system);
  }
  return names;
}

}  // namespace symp::judge
