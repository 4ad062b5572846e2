#pragma once
// The audio judge's rubrics (data/judge/*.txt, editable) and the parsing of its replies. PAPER.md section
// 8: an emotional setting (the emotion was in the user's voice) and a neutral setting (the user's voice
// was neutral and the emotion was stated), a helpfulness rubric for the neutral emotion in both, a
// CommonEval rubric (real spoken questions, no emotion: is it a good answer), and replies in the form
// `<rating>|<justification>`.
#include <optional>
#include <string>

namespace symp::judge {

enum class Setting { Neutral, Emotional, CommonEval };

// "neutral", "emotional" or "commoneval"; UsageError naming `what` otherwise.
Setting parse_setting(const std::string& name, const std::string& what = "setting");
std::string setting_name(Setting setting);

struct Rubrics {
  std::string emotional;    // emotional.txt: {emotion}, {valence}, {arousal} are filled in
  std::string neutral;      // neutral.txt
  std::string helpfulness;  // helpfulness.txt: for the neutral emotion, in both settings
  std::string commoneval;   // commoneval.txt: the CommonEval setting (no emotion)
  std::string user;         // user.txt: the text sent beside the audio

  // Reads the five files from `dir` (default: data/judge); InputError naming a missing one.
  static Rubrics load(const std::string& dir = "");

  // The system prompt for one reply. `emotion` is the target (neutral setting) or the user's emotion
  // (emotional setting); "neutral" selects the helpfulness rubric.
  std::string system_prompt(Setting setting, const std::string& emotion, double valence,
                            double arousal) const;
  // Which rubric system_prompt() picks: "emotional", "neutral", "helpfulness" or "commoneval".
  static std::string rubric_name(Setting setting, const std::string& emotion);
};

// The reference's parsing: the first digit 1-5 followed by optional spaces, '|' and some text on the same
// line ("4 | warm"; regex [1-5]\s*\|\s*.+), else the first digit 1-5 standing alone (no letter, digit or
// underscore on either side, like regex \b). "Rated 2 out of 5|" is 2: its "5|" has no text after it.
std::optional<int> parse_rating(const std::string& reply);

}  // namespace symp::judge
