// The transcript of one media item: what every stage after ASR reads (writers, store, entities).
//
// Times are integer milliseconds in the media's own timeline (ARCHITECTURE: "Times are integer
// milliseconds everywhere"). Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aimara::asr {

struct Token {
  int id = 0;
  std::string text;
  float p = 0.0f;        // probability
  float plog = 0.0f;     // log probability
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

struct Word {
  std::string text;      // with its leading space as whisper emits it, trimmed by writers
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  float p = 0.0f;        // mean token probability
};

struct Segment {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string text;
  float no_speech_prob = 0.0f;
  float avg_logprob = 0.0f;
  float temperature = 0.0f;    // the decoding's starting temperature
  std::vector<Token> tokens;   // filled when tokens were asked for
  std::vector<Word> words;     // filled when word timestamps were asked for
};

struct Transcript {
  int64_t duration_ms = 0;
  std::string language;        // detected or given ("en", "es")
  std::string model;           // model name or file stem
  nlohmann::json options = nlohmann::json::object();  // the options it was made with
  std::vector<Segment> segments;
};

}  // namespace aimara::asr
