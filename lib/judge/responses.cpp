#include "symp/judge/responses.h"
#include "symp/records/response.h"

#include <algorithm>

#include "symp/affect/affect.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/io/jsonl.h"
#include "symp/records/manifest.h"

namespace symp::judge {

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
    const std::string file = fs::absolute(source.path).string();  // audio paths resolve against its folder
    std::string folder_name = fs::path(file).parent_path().filename().string();
    records::for_each_response_record(source.path, [&](const records::ResponseRecord& r, size_t line) {
      Response x;
      x.where = source.path + ":" + std::to_string(line);
      x.id = r.id;
      x.system = !source.system.empty() ? source.system : r.system;
      if (x.system.empty()) x.system = folder_name;
      if (!r.response_audio.empty())
        x.audio = records::resolve_audio(file, r.response_audio, x.where + ": the reply's audio");
      const std::string setting = !r.setting.empty() ? r.setting : r.split;
      x.setting = setting.empty() ? default_setting : parse_setting(setting, x.where + ": field 'setting'");
      // The Emotional setting judges against the emotion in the user's voice (infer's query_emotion),
      // whatever condition the prompt carried (usually none).
      const std::string& query_emotion = r.query_emotion;
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
        x.emotion = !r.emotion.empty() ? r.emotion : r.condition;
        const bool has_va = r.valence && r.arousal;
        if (has_va) {
          auto va = affect::make_va(*r.valence, *r.arousal, x.where);
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
        } else if (x.emotion == "NA" || r.condition_source == "none") {
          // infer's N/A condition (one of the reference's 19): no target to judge or compare against.
          x.emotion.clear();
          x.no_target = true;
        } else {
          throw InputError(x.where +
                           ": no emotion, condition, query_emotion (emotional setting) or "
                           "valence/arousal to judge against");
        }
      }
      x.transcript = r.transcript;
      if (r.response_duration) x.duration = *r.response_duration;
      x.text = r.response_text;
      x.query = !r.query_id.empty() ? r.query_id : !r.input.empty() ? r.input : r.query_text;
      x.reference = r.reference_text;
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
