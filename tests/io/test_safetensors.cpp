#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>

#include "../test_util.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/io/safetensors.h"

using namespace symp::io;

namespace {

// Writes a safetensors file whose header is given verbatim, followed by `data_bytes` zero bytes.
void write_raw(const std::string& path, const std::string& header, size_t data_bytes) {
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header;
  out << std::string(data_bytes, '\0');
}

}  // namespace

TEST_CASE("io: safetensors write then read keeps names, shapes, dtypes and values") {
  symp::test::ScratchDir dir("st");
  SafetensorsWriter w;
  w.add_f32("a.weight", {2, 3}, {1, 2, 3, 4, 5, 6});
  w.add_i64("ids", {4}, {7, -8, 9, 1LL << 40});
  std::vector<uint16_t> bf = {f32_to_bf16(1.5f), f32_to_bf16(-0.25f)};
  w.add("h", DType::BF16, {2}, bf.data(), 4);
  std::vector<uint16_t> hf = {f32_to_f16(3.0f), f32_to_f16(-65504.f), f32_to_f16(1e-7f)};
  w.add("f16", DType::F16, {3}, hf.data(), 6);
  w.set_metadata("format", "pt");
  w.write(dir.file("x.safetensors"));

  auto f = SafetensorsFile::open(dir.file("x.safetensors"));
  CHECK(f.names() == std::vector<std::string>{"a.weight", "f16", "h", "ids"});
  CHECK(f.metadata().at("format") == "pt");
  const auto& a = f.get("a.weight");
  CHECK(a.shape == std::vector<int64_t>{2, 3});
  CHECK(a.dtype == DType::F32);
  CHECK(a.to_f32()[5] == 6.0f);
  CHECK(f.get("ids").to_i64()[3] == (1LL << 40));
  CHECK(f.get("h").to_f32() == std::vector<float>{1.5f, -0.25f});
  auto h = f.get("f16").to_f32();
  CHECK(h[0] == 3.0f);
  CHECK(h[1] == -65504.f);
  CHECK(h[2] == std::ldexp(1.0f, -23));  // 1e-7 rounds to two half-precision subnormal units
  CHECK_THROWS_WITH(f.get("missing"), Catch::Contains("missing") && Catch::Contains("x.safetensors"));
}

TEST_CASE("io: safetensors rejects files whose header lies") {
  symp::test::ScratchDir dir("st-bad");
  const auto p = dir.file("bad.safetensors");
  // Offsets past the end of the data section.
  write_raw(p, R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
  CHECK_THROWS_WITH(SafetensorsFile::open(p), Catch::Contains("'t'") && Catch::Contains("outside"));
  // Shape x dtype disagrees with the byte range.
  write_raw(p, R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16);
  CHECK_THROWS_WITH(SafetensorsFile::open(p), Catch::Contains("needs 12 bytes"));
  // Two tensors overlapping.
  write_raw(p, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12);
  CHECK_THROWS_WITH(SafetensorsFile::open(p), Catch::Contains("overlaps"));
  // Unknown dtype, bad JSON, header length beyond the file, a file too short.
  write_raw(p, R"({"t":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", 1);
  CHECK_THROWS_WITH(SafetensorsFile::open(p), Catch::Contains("Q7"));
  write_raw(p, R"({"t":)", 0);
  CHECK_THROWS_WITH(SafetensorsFile::open(p), Catch::Contains("not valid JSON"));
  {
    std::ofstream out(p, std::ios::binary);
    const uint64_t n = 1 << 20;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << "{}";
  }
  CHECK_THROWS_WITH(SafetensorsFile::open(p), Catch::Contains("header length"));
  { std::ofstream(p, std::ios::binary) << "abc"; }
  CHECK_THROWS_WITH(SafetensorsFile::open(p), Catch::Contains("too short"));
  CHECK_THROWS_AS(SafetensorsFile::open(dir.file("nope.safetensors")), symp::InputError);
}

TEST_CASE("io: a truncated safetensors file is refused") {
  symp::test::ScratchDir dir("st-trunc");
  SafetensorsWriter w;
  w.add_f32("w", {256}, std::vector<float>(256, 1.0f));
  w.write(dir.file("full.safetensors"));
  auto bytes = symp::read_text_file(dir.file("full.safetensors"));
  std::ofstream(dir.file("cut.safetensors"), std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  CHECK_THROWS_WITH(SafetensorsFile::open(dir.file("cut.safetensors")), Catch::Contains("cut.safetensors"));
}

TEST_CASE("io: sharded checkpoints read through the index") {
  symp::test::ScratchDir dir("st-shard");
  SafetensorsWriter a, b;
  a.add_f32("x", {1}, {1});
  b.add_f32("y", {2}, {2, 3});
  a.write(dir.file("model-00001-of-00002.safetensors"));
  b.write(dir.file("model-00002-of-00002.safetensors"));
  std::ofstream(dir.file("model.safetensors.index.json"))
      << R"({"metadata":{},"weight_map":{"x":"model-00001-of-00002.safetensors","y":"model-00002-of-00002.safetensors"}})";
  auto m = SafetensorsModel::open(dir.path().string());
  CHECK(m.names() == std::vector<std::string>{"x", "y"});
  CHECK(m.get("y").to_f32()[1] == 3.0f);
  std::ofstream(dir.file("model.safetensors.index.json"))
      << R"({"weight_map":{"x":"model-00001-of-00002.safetensors","y":"model-00003-of-00002.safetensors"}})";
  CHECK_THROWS_WITH(SafetensorsModel::open(dir.path().string()), Catch::Contains("model-00003-of-00002"));
}

TEST_CASE("io: every fixture safetensors file loads with the documented names, shapes and dtypes") {
  const auto fx = symp::test::fixtures_dir();
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(fx)) {
    if (entry.path().extension() != ".safetensors") continue;
    INFO(entry.path().string());
    auto f = SafetensorsFile::open(entry.path().string());
    CHECK_FALSE(f.names().empty());
    ++files;
  }
  CHECK(files >= 15);
  auto logits = SafetensorsFile::open(fx + "/glm_logits.safetensors").get("logits");
  CHECK(logits.shape == std::vector<int64_t>{11, 256});
  CHECK(logits.dtype == DType::F32);
  auto wvq = SafetensorsFile::open(fx + "/whisper_vq/expected.safetensors");
  CHECK(wvq.get("token_ids").dtype == DType::I64);
  CHECK(wvq.get("input_features").shape == std::vector<int64_t>{2, 128, 464});
  CHECK(wvq.get("pre_vq_hidden").shape == std::vector<int64_t>{2, 58, 64});
  CHECK(SafetensorsFile::open(fx + "/hift/expected.safetensors").get("speech").shape == std::vector<int64_t>{1, 6144});
  CHECK(SafetensorsFile::open(fx + "/bert_embeddings.safetensors").get("embeddings").shape[1] == 32);
  auto glm = SafetensorsModel::open(fx + "/glm_chatglm");
  CHECK(glm.get("transformer.embedding.word_embeddings.weight").shape == std::vector<int64_t>{256, 64});
}
