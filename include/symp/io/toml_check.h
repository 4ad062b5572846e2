#pragma once
// A strict syntax check of the TOML files `--config` reads (recipes, saved symp-config.toml), before CLI11's
// lenient reader sees them: CLI11 takes `[affect` without its bracket or `emotion = ` without a value and
// goes on. Covers what symp's configs use: comments, [table] headers, bare/quoted/dotted keys, basic and
// literal strings, integers and floats in TOML's forms, booleans, arrays (may span lines), inline tables.
// Duplicate keys are an error, as TOML says.
#include <string>

namespace symp::io {

// UsageError "FILE:LINE: what is wrong" for the first problem; InputError when the file cannot be read.
void check_toml_file(const std::string& path);
// The same for text already in memory (`name` is used in messages).
void check_toml_text(const std::string& text, const std::string& name);

}  // namespace symp::io
