// The template text backend: grammar loading and checking, query and response assembly.
#include "symp/data/templates.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "symp/core/error.h"
#include "symp/core/rng.h"
#include "symp/io/jsonl.h"

namespace symp::data {
namespace {

using io::Json;

std::vector<std::string> string_list(const Json& object, const std::string& key, const std::string& context,
                                     bool allow_empty_list = false) {
  const Json& list = io::require_field(object, key, context);
  if (!list.is_array()) throw InputError(fmt::format("{}: field '{}': not a list", context, key));
  std::vector<std::string> out;
  for (const Json& item : list) {
    if (!item.is_string())
      throw InputError(fmt::format("{}: field '{}': an entry is not a string", context, key));
    out.push_back(item.get<std::string>());
  }
  if (out.empty() && !allow_empty_list)
    throw InputError(fmt::format("{}: field '{}': empty list", context, key));
  return out;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

const std::string& pick(const std::vector<std::string>& items, Rng& rng) {
  return items[rng.below(items.size())];
}

// Joins sentences with single spaces, skipping empty ones.
std::string join_sentences(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

std::string lower_first(std::string s) {
  if (s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) &&
      !std::isupper(static_cast<unsigned char>(s[1])) && s.rfind("I ", 0) != 0)
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string upper_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

QueryCues load_cues(const Json& j, const std::string& context) {
  QueryCues cues;
  cues.openers = string_list(j, "openers", context);
  if (j.contains("contexts")) cues.contexts = string_list(j, "contexts", context);
  cues.closers = string_list(j, "closers", context);
  return cues;
}

}  // namespace

std::vector<Topic> load_topics(const std::string& path) {
  const Json root = io::read_json(path);
  const Json& list = io::require_field(root, "topics", path);
  std::vector<Topic> topics;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string context = fmt::format("{}: topic {}", path, i);
    Topic t;
    t.name = io::require_string(list[i], "name", context);
    t.tasks = string_list(list[i], "tasks", context + " (" + t.name + ")");
    t.tips = string_list(list[i], "tips", context + " (" + t.name + ")");
    if (t.tips.size() < 2)
      throw InputError(context + " (" + t.name + "): field 'tips': needs at least 2 tips");
    topics.push_back(std::move(t));
  }
  if (topics.empty()) throw InputError(path + ": no topics");
  return topics;
}

bool has_sentiment(const std::string& text, const std::vector<std::string>& words) {
  if (text.find('!') != std::string::npos) return true;
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  auto is_word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '\''; };
  for (const auto& w : words) {
    for (size_t pos = lower.find(w); pos != std::string::npos; pos = lower.find(w, pos + 1)) {
      const bool start_ok = pos == 0 || !is_word_char(lower[pos - 1]);
      const bool end_ok = pos + w.size() >= lower.size() || !is_word_char(lower[pos + w.size()]);
      if (start_ok && end_ok) return true;
    }
  }
  return false;
}

TemplateGrammar TemplateGrammar::load(const std::string& dir, const std::vector<std::string>& emotions) {
  TemplateGrammar g;
  g.topics = load_topics(dir + "/topics.json");

  const std::string qpath = dir + "/queries.json";
  const Json q = io::read_json(qpath);
  g.frames = string_list(q, "frames", qpath);
  for (const auto& f : g.frames)
    if (f.find("{task}") == std::string::npos)
      throw InputError(fmt::format("{}: field 'frames': '{}' has no {{task}}", qpath, f));
  g.neutral = load_cues(io::require_field(q, "neutral", qpath), qpath + ": neutral");
  g.sentiment_words = string_list(q, "sentiment_words", qpath);
  for (const auto* list : {&g.frames, &g.neutral.openers, &g.neutral.contexts, &g.neutral.closers})
    for (const auto& s : *list)
      if (has_sentiment(s, g.sentiment_words))
        throw InputError(fmt::format("{}: neutral wording '{}' has a sentiment word or '!'", qpath, s));
  for (const auto& t : g.topics)
    for (const auto& task : t.tasks)
      if (has_sentiment(task, g.sentiment_words))
        throw InputError(
            fmt::format("{}/topics.json: topic '{}': task '{}' has a sentiment word or '!' (neutral "
                        "queries use it)",
                        dir, t.name, task));
  const Json& emo = io::require_field(q, "emotional", qpath);

  const std::string rpath = dir + "/responses.json";
  const Json responses = io::read_json(rpath);
  const Json& strategies = io::require_field(responses, "strategies", rpath);
  for (const auto& e : emotions) {
    if (e != "neutral") {
      if (!emo.contains(e))
        throw InputError(fmt::format("{}: field 'emotional': no cues for '{}'", qpath, e));
      g.emotional[e] = load_cues(emo[e], qpath + ": emotional." + e);
    }
    if (!strategies.contains(e)) throw InputError(fmt::format("{}: no strategy for '{}'", rpath, e));
    const Json& s = strategies[e];
    const std::string ctx = rpath + ": strategies." + e;
    ResponseStrategy r;
    r.acknowledge = string_list(s, "acknowledge", ctx);
    r.acknowledge_neutral = string_list(s, "acknowledge_neutral", ctx);
    r.bridge = string_list(s, "bridge", ctx);
    r.first = string_list(s, "first", ctx);
    r.then = string_list(s, "then", ctx);
    r.close = string_list(s, "close", ctx);
    if (s.contains("tips")) {
      const Json& n = s["tips"];
      if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > 2)
        throw InputError(
            fmt::format("{}: field 'tips' must be 1 or 2 (how many of the topic's tips a response "
                        "gives), got {}",
                        ctx, n.dump()));
      r.tips = n.get<int>();
    }
    g.strategies[e] = std::move(r);
  }
  return g;
}

TemplateTextBackend::TemplateTextBackend(TemplateGrammar grammar) : grammar_(std::move(grammar)) {}

std::string TemplateTextBackend::query(const QuerySpec& spec) const {
  const Topic& topic = grammar_.topics.at(static_cast<size_t>(spec.topic) % grammar_.topics.size());
  Rng rng(spec.seed);
  const bool neutral = spec.neutral_split || spec.emotion == "neutral";
  const QueryCues& cues = neutral ? grammar_.neutral : grammar_.emotional.at(spec.emotion);
  const std::string& task = pick(topic.tasks, rng);
  const std::string frame = replace_all(pick(grammar_.frames, rng), "{task}", task);
  const std::string opener = pick(cues.openers, rng);
  const std::string context = cues.contexts.empty() ? "" : pick(cues.contexts, rng);
  const std::string closer = pick(cues.closers, rng);
  std::string text = join_sentences({opener, context, frame, closer});
  return replace_all(text, "{topic}", topic.name);
}

std::string TemplateTextBackend::response(const ResponseSpec& spec) const {
  const Topic& topic = grammar_.topics.at(static_cast<size_t>(spec.topic) % grammar_.topics.size());
  const ResponseStrategy& s = grammar_.strategies.at(spec.emotion);
  Rng rng(spec.seed);
  const std::string ack = pick(spec.neutral_split ? s.acknowledge_neutral : s.acknowledge, rng);
  // Two different tips of the topic, in a seeded order.
  const size_t a = rng.below(topic.tips.size());
  size_t b = rng.below(topic.tips.size() - 1);
  if (b >= a) ++b;
  const std::string first = replace_all(pick(s.first, rng), "{tip}", lower_first(topic.tips[a]));
  const std::string then = replace_all(pick(s.then, rng), "{tip}", lower_first(topic.tips[b]));
  // 3-5 sentences: the bridge, the second tip and the closing line are each sometimes left out, but
  // never both the second tip and the closing line.
  // A one-tip strategy (brevity in its guidance) never gives the second tip and always closes.
  const bool with_bridge = rng.uniform() < 0.6;
  const bool with_then = rng.uniform() < 0.75 && s.tips == 2;
  const bool with_close = !with_then || rng.uniform() < 0.7;
  const std::string bridge = with_bridge ? pick(s.bridge, rng) : "";
  const std::string close = with_close ? pick(s.close, rng) : "";
  const std::string text =
      join_sentences({ack, bridge, upper_first(first), with_then ? upper_first(then) : "", close});
  return replace_all(text, "{topic}", topic.name);
}

std::vector<TextResult> TemplateTextBackend::queries(const std::vector<QuerySpec>& specs) {
  std::vector<TextResult> out;
  out.reserve(specs.size());
  for (const auto& s : specs) out.push_back({query(s), ""});
  return out;
}

std::vector<TextResult> TemplateTextBackend::responses(const std::vector<ResponseSpec>& specs) {
  std::vector<TextResult> out;
  out.reserve(specs.size());
  for (const auto& s : specs) out.push_back({response(s), ""});
  return out;
}

std::string TemplateTextBackend::describe() const {
  return fmt::format("template (data/gen grammar: {} topics, {} request frames)", grammar_.topics.size(),
                     grammar_.frames.size());
}

}  // namespace symp::data
