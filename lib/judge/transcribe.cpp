#include "symp/judge/transcribe.h"

#include <fmt/format.h>

#include <map>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/io/http.h"
#include "symp/io/jsonl.h"
#include "symp/io/openai_reply.h"
#include "symp/judge/audio_judge.h"
#include "symp/records/manifest.h"
#include "symp/records/response.h"

namespace symp::judge {

namespace {

// A multipart/form-data body with the audio as `file` and the text fields (RFC 7578).
std::string multipart(const std::string& boundary, const std::string& audio, const std::string& filename,
                      const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (value.empty()) continue;
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value +
            "\r\n";
  }
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
          "\"\r\nContent-Type: audio/wav\r\n\r\n";
  body += audio;
  body += "\r\n--" + boundary + "--\r\n";
  return body;
}

}  // namespace

void TranscribeOptions::validate() const {
  if (responses.empty()) throw UsageError("--responses: required");
  if (out.empty()) throw UsageError("--out: required");
  if (url.empty())
    throw UsageError(
        "--url: the transcription server's base URL is required (e.g. http://127.0.0.1:8080/v1)");
  if (model.empty()) throw UsageError("--model: empty");
  if (!(timeout_s > 0)) throw UsageError(fmt::format("--timeout: must be > 0, got {}", timeout_s));
  if (max_attempts < 1) throw UsageError(fmt::format("--max-attempts: must be >= 1, got {}", max_attempts));
}

TranscribeSummary run_transcribe(const TranscribeOptions& o) {
  o.validate();
  const auto key = io::api_key_from(o.api_key, o.api_key_env);
  const fs::path file = fs::absolute(o.responses);  // audio paths resolve against its folder
  const bool same_folder =
      fs::absolute(o.out).parent_path().lexically_normal() == file.parent_path().lexically_normal();
  const std::string cache_path = o.cache_path.empty() ? o.out + ".cache.jsonl" : o.cache_path;
  std::map<std::string, std::string> cache;
  if (fs::exists(cache_path)) {
    for (const auto& c : io::read_jsonl(cache_path, /*tolerate_torn_tail=*/true))
      if (c.contains("key") && c.contains("text") && c["text"].is_string()) cache[c["key"]] = c["text"];
  }
  if (fs::path(o.out).has_parent_path()) ensure_dir(fs::path(o.out).parent_path());
  io::JsonlAppender appender(cache_path);
  io::RetryPolicy retry;
  retry.max_attempts = o.max_attempts;
  const std::string endpoint =
      (o.url.back() == '/' ? o.url.substr(0, o.url.size() - 1) : o.url) + "/audio/transcriptions";

  std::vector<io::Json> records;
  io::for_each_jsonl(o.responses, [&](const io::Json& r, size_t) { records.push_back(r); });
  TranscribeSummary summary;
  summary.records = records.size();
  Progress bar("transcribe", static_cast<int64_t>(records.size()), "reply");
  for (size_t i = 0; i < records.size(); ++i) {
    auto& r = records[i];
    const std::string where = o.responses + ":" + std::to_string(i + 1);
    const auto [audio_field, audio] = records::response_audio_field(r);
    if (audio.empty()) {
      records::set_transcript(r, std::nullopt);
      ++summary.without_audio;
      bar.advance();
      continue;
    }
    const fs::path path =
        records::resolve_audio(file.string(), audio, where + ": field '" + audio_field + "'");
    // Relative paths are relative to the input's folder: written elsewhere, the record names the file
    // absolutely so that the judge still finds it.
    if (!same_folder) r[audio_field] = fs::absolute(path).lexically_normal().string();
    const std::string bytes = with_context(where + ": " + path.string(), [&] {
      if (!fs::is_regular_file(path)) throw InputError("no such file");
      return read_text_file(path);
    });
    const std::string cache_key = hash128(bytes) + hash128(o.model + '\x1f' + o.language);
    if (auto hit = cache.find(cache_key); hit != cache.end()) {
      records::set_transcript(r, hit->second);
      ++summary.cached;
      bar.advance();
      continue;
    }
    const std::string boundary = "symp-" + hash128(bytes).substr(0, 16);
    io::HttpRequest request;
    request.url = endpoint;
    request.timeout_s = o.timeout_s;
    request.headers = {"Content-Type: multipart/form-data; boundary=" + boundary};
    if (!key.empty()) request.headers.push_back("Authorization: Bearer " + key);
    request.body = multipart(boundary, bytes, path.filename().string(),
                             {{"model", o.model}, {"language", o.language}, {"response_format", "json"}});
    const std::string text = with_context(where + ": " + path.string(), [&] {
      const auto response = io::http_send_with_retry(request, retry);
      std::optional<std::string> text = io::transcription_text(response.body);
      if (!text)
        throw InputError(endpoint + ": the reply is not a transcription (no string field 'text'): " +
                         response.body.substr(0, 200));
      return *text;
    });
    appender.append({{"key", cache_key}, {"text", text}, {"audio", path.string()}});
    cache[cache_key] = text;
    records::set_transcript(r, text);
    ++summary.transcribed;
    bar.advance();
  }
  bar.finish();
  io::write_jsonl_atomic(o.out, records);
  log_info("transcribe", "{} records: {} transcribed, {} from the cache, {} without audio -> {}",
           summary.records, summary.transcribed, summary.cached, summary.without_audio, o.out);
  return summary;
}

}  // namespace symp::judge
