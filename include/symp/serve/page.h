#pragma once
// The page `symp serve` answers GET / with: talk to the assistant from a browser (microphone in, streamed
// reply out) with the condition set on a valence-arousal pad. One self-contained HTML document (no build
// step, no external assets); it talks to the server's own /v1 API.
#include <string>

namespace symp::serve {

const std::string& page_html();

}  // namespace symp::serve
