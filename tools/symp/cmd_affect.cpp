// symp affect: resolve an affect condition (emotion, VA point, interpolation, sensor probabilities) and
// print the point, its nearest anchor and the system prompt the model would see, one JSON line each.
#include <iostream>

#include "command.h"
#include "symp/affect/condition.h"
#include "symp/core/error.h"
#include "symp/core/rng.h"
#include "symp/io/jsonl.h"

namespace {

using symp::io::Json;

struct AffectCli {
  symp::affect::ConditionOptions condition;
  std::string probs_file;  // JSONL: {"id": ..., "probs": {"label": p, ...}} per line
  bool list = false;       // print the anchors and taxonomies instead
};

Json describe(const symp::affect::Condition& c) {
  const auto& anchors = symp::affect::AnchorSet::builtin();
  Json out = {{"source", symp::affect::condition_source_name(c.source)},
              {"label", c.label},
              {"prompt", symp::affect::system_prompt(c.used)}};
  if (c.used) {
    out["valence"] = c.used->valence;
    out["arousal"] = c.used->arousal;
    out["emotion"] = anchors.nearest(*c.used).name;
  } else {
    out["valence"] = nullptr;
    out["arousal"] = nullptr;
    out["emotion"] = nullptr;
  }
  if (c.requested && c.used &&
      (c.requested->valence != c.used->valence || c.requested->arousal != c.used->arousal)) {
    out["requested"] = {{"valence", c.requested->valence}, {"arousal", c.requested->arousal}};
  }
  return out;
}

int run(const AffectCli& cli, const symp::cli::GlobalOptions& global) {
  symp::Rng rng(global.seed);
  if (cli.list) {
    for (const auto& a : symp::affect::AnchorSet::builtin().all()) {
      std::cout << Json({{"emotion", a.name},
                         {"valence", a.va.valence},
                         {"arousal", a.va.arousal},
                         {"prompt", symp::affect::system_prompt(a.va)}})
                       .dump()
                << "\n";
    }
    return 0;
  }
  if (!cli.probs_file.empty()) {
    if (cli.condition.taxonomy.empty()) throw symp::UsageError("--probs-file needs --taxonomy");
    const auto tax = symp::affect::load_taxonomy(cli.condition.taxonomy);
    symp::io::for_each_jsonl(cli.probs_file, [&](const Json& row, size_t line) {
      const std::string ctx = cli.probs_file + ":" + std::to_string(line);
      const auto& probs = symp::io::require_field(row, "probs", ctx);
      if (!probs.is_object())
        throw symp::InputError(ctx + ": field 'probs': expected an object of label: probability");
      symp::affect::Probabilities p;
      for (const auto& [label, value] : probs.items()) {
        if (!value.is_number())
          throw symp::InputError(ctx + ": field 'probs." + label + "': expected a number");
        p.emplace_back(label, value.get<double>());
      }
      symp::affect::Condition c;
      c.source = symp::affect::ConditionSource::Sensor;
      c.label = tax.name;
      c.requested = symp::with_context(ctx, [&] { return symp::affect::fuse(tax, p).va; });
      c.used = c.requested;
      if (cli.condition.noise_sigma > 0)
        c.used = symp::affect::add_noise(*c.requested, cli.condition.noise_sigma, rng);
      Json out = describe(c);
      if (row.contains("id")) out["id"] = row["id"];
      std::cout << out.dump() << "\n";
    });
    return 0;
  }
  std::cout << describe(symp::affect::resolve_condition(cli.condition, rng)).dump() << "\n";
  return 0;
}

symp::cli::Runner setup(CLI::App& app) {
  auto cli = std::make_shared<AffectCli>();
  auto& c = cli->condition;
  app.add_option("--emotion", c.emotion, "An anchor name (happy, excited, ..., angry)");
  app.add_option("--va", c.va, "An explicit point 'valence,arousal', each in [-1, 1]");
  app.add_option("--interpolate", c.interpolate, "Two anchors 'A,B' to interpolate between (with --t)");
  app.add_option("--t", c.t, "Position along --interpolate: 0 = A, 1 = B");
  app.add_option("--taxonomy", c.taxonomy,
                 "Sensor label set: affectnet, isear, seed7, text7, or a JSON file");
  app.add_option("--probs", c.probs, "Sensor probabilities 'label=p,label=p' over the taxonomy's labels");
  app.add_option("--probs-file", cli->probs_file,
                 "JSONL of {\"id\": ..., \"probs\": {label: p}} rows (with --taxonomy)");
  app.add_flag("--none", c.none, "No condition: the prompt says N/A");
  app.add_option("--va-noise", c.noise_sigma, "Gaussian noise sigma added to each coordinate, then clamped")
      ->capture_default_str();
  app.add_flag("--list", cli->list, "List the anchors and their prompts");
  return [cli](const symp::cli::GlobalOptions& g) { return run(*cli, g); };
}

}  // namespace

SYMP_COMMAND(affect, "affect", 10, "Resolve an affect condition to a VA point and its system prompt", setup)
