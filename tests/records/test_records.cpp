// The typed records of the files between stages: each reads what its writer wrote back unchanged, keeps
// fields it does not know, and names the file, line and field of a bad one.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "../test_util.h"
#include "symp/core/error.h"
#include "symp/records/encoded.h"
#include "symp/records/features_row.h"
#include "symp/records/judge_item.h"
#include "symp/records/manifest.h"
#include "symp/records/response.h"

using symp::io::Json;
namespace records = symp::records;

namespace {

// A record as gen-data writes it, plus a field of another tool.
Json gen_data_record() {
  return Json::parse(R"({"arousal":0.35,"emotion":"happy","id":"emo-happy-0001","partition":"eval",
    "query_audio":"audio/queries/emo-happy-0001.wav","query_duration":7.522403628117914,"query_emotion":"happy",
    "query_id":"emo-happy-0001","query_text":"My week has been wonderful.","response_audio":"audio/responses/emo-happy-0001.wav",
    "response_duration":13.311337868480726,"response_speaker":"en-us+f2","response_text":"How lovely!",
    "speaker":"en-us+m3","split":"emotional","valence":0.85,"annotator":{"name":"x","score":3}})");
}

}  // namespace

TEST_CASE("records: a manifest record reads and writes back unchanged, unknown fields included",
          "[records]") {
  const Json j = gen_data_record();
  const auto r = records::parse_manifest_record(j, "m.jsonl:3");
  CHECK(r.id == "emo-happy-0001");
  CHECK(r.where == "m.jsonl:3: record emo-happy-0001");
  CHECK(r.split == "emotional");
  CHECK(*r.valence == 0.85);
  CHECK(*r.response_duration == 13.311337868480726);
  CHECK(r.extra.at("annotator").at("score") == 3);
  CHECK(records::to_json(r).dump() == j.dump());
  CHECK(r.query_key() == "emo-happy-0001");
}

TEST_CASE("records: a bad manifest record names the file, line, record and field", "[records]") {
  Json j = gen_data_record();
  j["valence"] = "high";
  CHECK_THROWS_WITH(records::parse_manifest_record(j, "m.jsonl:7"),
                    Catch::Contains("m.jsonl:7: record emo-happy-0001: field 'valence'"));
  j = gen_data_record();
  j["split"] = "both";
  CHECK_THROWS_WITH(records::parse_manifest_record(j, "m.jsonl:7"), Catch::Contains("field 'split'"));
  j = gen_data_record();
  j["arousal"] = 1.5;
  CHECK_THROWS_AS(records::parse_manifest_record(j, "m.jsonl:7"), symp::InputError);
  j = gen_data_record();
  j.erase("id");
  CHECK_THROWS_WITH(records::parse_manifest_record(j, "m.jsonl:7"), Catch::Contains("m.jsonl:7: field 'id'"));
  CHECK_THROWS_WITH(records::parse_manifest_record(Json::array(), "m.jsonl:8"),
                    Catch::Contains("m.jsonl:8: expected a JSON object"));

  // A record another tool wrote may lack fields; the stage that needs one says which.
  j = gen_data_record();
  j.erase("response_audio");
  j.erase("query_text");
  const auto r = records::parse_manifest_record(j, "m.jsonl:9");
  using F = records::ManifestField;
  CHECK_NOTHROW(records::require(r, {F::Split, F::Partition, F::Va, F::ResponseText, F::QueryAudio}));
  CHECK_THROWS_WITH(records::require(r, {F::Audio}),
                    Catch::Contains("m.jsonl:9: record emo-happy-0001: field 'response_audio'") &&
                        Catch::Contains("no audio"));
  CHECK_THROWS_WITH(records::require(r, {F::QueryText}), Catch::Contains("field 'query_text'"));
}

TEST_CASE("records: manifest files are read in order with their line numbers", "[records]") {
  symp::test::ScratchDir dir("records-manifest");
  {
    std::ofstream out(dir.file("manifest.jsonl"));
    Json a = gen_data_record(), b = gen_data_record();
    b["id"] = 7;  // an integer id from another tool
    out << a.dump() << "\n\n" << b.dump() << "\n";
  }
  std::vector<std::pair<std::string, size_t>> seen;
  records::for_each_manifest_record(
      records::manifest_path(dir.path().string()),
      [&](const records::ManifestRecord& r, size_t line) { seen.emplace_back(r.id, line); });
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == std::make_pair(std::string("emo-happy-0001"), size_t{1}));
  CHECK(seen[1] == std::make_pair(std::string("7"), size_t{3}));
}

TEST_CASE("records: an audio path that leaves its file's folder is refused unless the user allows it",
          "[records]") {
  symp::test::ScratchDir dir("records-paths");
  const std::string m = dir.file("manifest.jsonl");
  REQUIRE_FALSE(records::outside_paths_allowed());
  CHECK(records::resolve_audio(m, "audio/a.wav", "w") == dir.file("audio/a.wav"));
  CHECK(records::resolve_audio(m, "audio/../b.wav", "w") == dir.file("audio/../b.wav"));  // stays inside
  CHECK_THROWS_WITH(
      records::resolve_audio(m, "/etc/passwd", "m.jsonl:3: field 'query_audio'"),
      Catch::Contains("m.jsonl:3: field 'query_audio': audio path '/etc/passwd' leaves the folder") &&
          Catch::Contains("absolute") && Catch::Contains("--allow-outside-paths"));
  CHECK_THROWS_WITH(records::resolve_audio(m, "audio/../../x.wav", "w"), Catch::Contains("climbs out"));
  CHECK_THROWS_AS(records::resolve_audio(m, "../x.wav", "w"), symp::InputError);
  records::allow_outside_paths(true);
  CHECK(records::resolve_audio(m, "/abs/a.wav", "w") == "/abs/a.wav");
  CHECK(records::resolve_audio(m, "../x.wav", "w") == dir.file("../x.wav"));
  records::allow_outside_paths(false);
}

TEST_CASE("records: an encoded record checks its ids, reply start and loss mask", "[records]") {
  const Json j = {{"id", "r1"},           {"text", "t"},       {"valence", nullptr},
                  {"arousal", nullptr},   {"condition", "na"}, {"input_ids", {5, 6, 7, 8}},
                  {"assistant_start", 2}, {"length", 4},       {"split", "neutral"},
                  {"partition", "train"}, {"emotion", "sad"},  {"query_tokens", 1},
                  {"response_tokens", 2}};
  const auto r = records::parse_encoded_record(j, "e.jsonl:1");
  CHECK(r.input_ids == std::vector<int64_t>{5, 6, 7, 8});
  CHECK(*r.assistant_start == 2);
  CHECK_FALSE(r.valence.has_value());
  CHECK(records::to_json(r).dump() == j.dump());

  Json bad = j;
  bad["assistant_start"] = 4;
  CHECK_THROWS_WITH(records::parse_encoded_record(bad, "e.jsonl:2"),
                    Catch::Contains("e.jsonl:2: field 'assistant_start'"));
  bad = j;
  bad["loss_mask"] = {0, 1};
  CHECK_THROWS_WITH(records::parse_encoded_record(bad, "e.jsonl:3"), Catch::Contains("field 'loss_mask'"));
  bad = j;
  bad["input_ids"] = {1, "x"};
  CHECK_THROWS_WITH(records::parse_encoded_record(bad, "e.jsonl:4"), Catch::Contains("field 'input_ids'"));
  bad = j;
  bad["input_ids"] = {1};
  CHECK_THROWS_WITH(records::parse_encoded_record(bad, "e.jsonl:5"), Catch::Contains("at least 2"));
}

TEST_CASE("records: a reply record writes infer's nulls and reads other tools' field names", "[records]") {
  records::ResponseRecord r;
  r.key = "k";
  r.id = "lora__q1__happy";
  r.system = "lora";
  r.condition = "happy";
  r.condition_source = "emotion";
  r.emotion = "happy";
  r.response_text = "Hi.";
  r.response_duration = 1.5;
  r.valence = 0.85;
  r.arousal = 0.35;
  const Json j = records::to_json(r);
  CHECK(j.at("response_audio").is_null());  // no audio
  CHECK(j.at("setting").is_null());
  CHECK(j.at("cue_modality").is_null());
  CHECK_FALSE(j.contains("requested_valence"));
  const auto back = records::parse_response_record(j, "r.jsonl:1");
  CHECK(records::to_json(back).dump() == j.dump());

  const Json other = {{"id", 12},          {"wav", "a.wav"},          {"text", "hello"},    {"duration", 2.0},
                      {"checkpoint", "c"}, {"target_emotion", "sad"}, {"reference", "ref"}, {"extra", 1}};
  const auto o = records::parse_response_record(other, "x.jsonl:4");
  CHECK(o.id == "12");
  CHECK(o.response_audio == "a.wav");
  CHECK(o.response_text == "hello");
  CHECK(*o.response_duration == 2.0);
  CHECK(o.system == "c");
  CHECK(o.target_emotion == "sad");
  CHECK(o.reference_text == "ref");
  CHECK(o.extra == Json{{"extra", 1}});
  CHECK(records::response_audio_field(other) == std::make_pair(std::string("wav"), std::string("a.wav")));

  CHECK_THROWS_WITH(records::parse_response_record(Json{{"id", "a"}, {"valence", "x"}}, "x.jsonl:5"),
                    Catch::Contains("x.jsonl:5: field 'valence'"));
  CHECK_THROWS_WITH(records::parse_response_record(Json{{"text", "a"}}, "x.jsonl:6"),
                    Catch::Contains("x.jsonl:6: field 'id'"));
}

TEST_CASE("records: features.csv rows write and read back, empty and NaN cells kept apart", "[records]") {
  symp::test::ScratchDir dir("records-features");
  records::FeaturesRow ok;
  ok.id = "a";
  ok.f0_mean = 201.5;
  ok.f0_std = std::nan("");
  ok.rate_source = "nuclei";
  ok.voiced_frames = 40;
  ok.frames = 50;
  ok.valence = -0.75;
  ok.arousal = 0.5;
  ok.audio = "x, \"quoted\".wav";
  records::FeaturesRow failed;
  failed.id = "b";
  failed.error = "silent";
  records::write_features_csv(dir.file("features.csv"), {ok, failed});
  const auto rows = records::read_features_csv(dir.file("features.csv"));
  REQUIRE(rows.size() == 2);
  CHECK(*rows[0].f0_mean == 201.5);
  CHECK(std::isnan(*rows[0].f0_std));
  CHECK_FALSE(rows[0].energy_mean.has_value());
  CHECK(*rows[0].voiced_frames == 40);
  CHECK(rows[0].audio == ok.audio);
  CHECK(*rows[0].valence == -0.75);
  CHECK_FALSE(rows[1].f0_mean.has_value());
  CHECK(rows[1].error == "silent");
  CHECK(records::to_cells(rows[0]) == records::to_cells(ok));
  CHECK(records::features_header().front() == "id");

  std::ofstream(dir.file("bad.csv")) << "id,f0_mean\na,1\n";
  CHECK_THROWS_WITH(records::read_features_csv(dir.file("bad.csv")),
                    Catch::Contains("column 'f0_std' missing"));
  {
    std::ofstream bad(dir.file("bad2.csv"));
    for (size_t i = 0; i < records::features_header().size(); ++i)
      bad << (i ? "," : "") << records::features_header()[i];
    bad << "\nz,12Hz" << std::string(records::features_header().size() - 2, ',') << "\n";
  }
  CHECK_THROWS_WITH(records::read_features_csv(dir.file("bad2.csv")),
                    Catch::Contains("row 2: column 'f0_mean'") && Catch::Contains("12Hz"));
}

TEST_CASE("records: judge items write and read back", "[records]") {
  records::JudgeItemRecord r;
  r.system = "lora";
  r.id = "lora__q__sad";
  r.setting = "neutral";
  r.emotion = "sad";
  r.valence = -0.75;
  r.arousal = -0.65;
  r.rubric = "neutral";
  r.ratings = {4, 5};
  r.replies = {"4", "5", "?"};
  r.unparsed_replies = 1;
  r.score = 4.5;
  const Json j = records::to_json(r);
  CHECK_FALSE(j.contains("error"));
  const auto back = records::parse_judge_item(j, "j.jsonl:1");
  CHECK(records::to_json(back).dump() == j.dump());
  r.score.reset();
  r.error = "HTTP 500";
  const auto failed = records::parse_judge_item(records::to_json(r), "j.jsonl:2");
  CHECK_FALSE(failed.score.has_value());
  CHECK(failed.error == "HTTP 500");
  CHECK_THROWS_WITH(records::parse_judge_item(Json{{"id", "x"}}, "j.jsonl:3"),
                    Catch::Contains("field 'system'"));
}

TEST_CASE("records: the proxy judge's items carry a score or the reason there is none", "[records]") {
  records::ProxyItemRecord scored{"lora", "lora__q__sad", "neutral", "sad", 4.2, "sad", ""};
  CHECK(records::to_json(scored) == Json{{"judge", "PROXY"},
                                         {"system", "lora"},
                                         {"id", "lora__q__sad"},
                                         {"setting", "neutral"},
                                         {"emotion", "sad"},
                                         {"score", 4.2},
                                         {"predicted_emotion", "sad"}});
  records::ProxyItemRecord failed{"lora", "x", "commoneval", "", std::nullopt, "", "no target"};
  const Json j = records::to_json(failed);
  CHECK(j.at("score").is_null());
  CHECK(j.at("error") == "no target");
  CHECK_FALSE(j.contains("predicted_emotion"));
  CHECK(records::prosody_feature_names().size() == 7);
  CHECK(std::vector<std::string>(records::features_header().begin() + 1,
                                 records::features_header().begin() + 8) == records::prosody_feature_names());
}

TEST_CASE("records: a record from a newer format version is refused, version 1 is implicit", "[records]") {
  Json j = gen_data_record();
  j["schema_version"] = 1;
  const auto r = records::parse_manifest_record(j, "m.jsonl:1");
  CHECK_FALSE(r.extra.contains("schema_version"));
  CHECK(records::to_json(r).dump() == gen_data_record().dump());  // written as version 1 always was
  j["schema_version"] = 2;
  CHECK_THROWS_WITH(records::parse_manifest_record(j, "m.jsonl:2"),
                    Catch::Contains("m.jsonl:2: record emo-happy-0001: field 'schema_version'") &&
                        Catch::Contains("newer symp"));
  const Json reply = {{"id", "a"}, {"schema_version", "1"}};
  CHECK_THROWS_WITH(records::parse_response_record(reply, "r.jsonl:3"),
                    Catch::Contains("field 'schema_version'"));
  const Json encoded = {{"input_ids", {1, 2}}, {"schema_version", 9}};
  CHECK_THROWS_AS(records::parse_encoded_record(encoded, "e.jsonl:1"), symp::InputError);
  const Json item = {{"system", "s"}, {"id", "x"}, {"schema_version", 0}};
  CHECK_THROWS_AS(records::parse_judge_item(item, "j.jsonl:1"), symp::InputError);
}
