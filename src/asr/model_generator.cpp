#include "asr/model_generator.h"

#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <span>
#include <unordered_set>

namespace aimara::asr {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kGgmlMagic = 0x67676d6c;  // "ggml", what whisper.cpp checks first
constexpr int kSampleRate = 16000;
constexpr int kNfft = 400;                   // 25 ms windows: 201 frequency bins
constexpr int kStoredVocab = 50257;          // token strings in the file (ids 0 .. 50256)

// Ids of the special tokens of a multilingual vocabulary of 51865 (99 languages), as
// whisper.cpp derives them after reading the file.
constexpr int kTokenEot = 50257;
constexpr int kTokenLangFirst = 50259;       // "en" is the first language, "es" the fourth
constexpr int kTokenTimestampFirst = 50364;  // <|0.00|>; one token per 20 ms up to <|30.00|>

// ---------------------------------------------------------------------------------------------
// Pseudo-random numbers: splitmix64 seeds xoshiro256**. Only integer arithmetic and exact float
// operations are used, so the bytes are the same on every machine.

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1), 24 bits: exactly representable as a float.
  float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
  // Zero mean, unit variance, bell-shaped (Irwin-Hall with four terms), bounded by +-3.46.
  float normal() {
    float sum = uniform() + uniform() + uniform() + uniform();
    return (sum - 2.0f) * 1.7320508f;
  }

 private:
  std::array<uint64_t, 4> s_{};
};

// One independent stream per tensor: its values do not depend on the order tensors are written.
Rng tensor_rng(uint64_t seed, std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  uint64_t mix = seed ^ 0x5851f42d4c957f2dULL;
  return Rng(splitmix64(mix) ^ h);
}

// IEEE 754 binary16, round to nearest even.
uint16_t to_f16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | (abs > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow to infinity
  if (abs < 0x38800000u) {                                                // subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t mant = (abs & 0x007fffffu) | 0x00800000u;
    const int shift = 126 - static_cast<int>(abs >> 23);
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = ((abs - 0x38000000u) >> 13);
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

enum class TokenKind {
  kUnprintableByte,  // control bytes and lone UTF-8 continuation/lead bytes: never produced
  kPrintableByte,
  kPunctuation,      // "." "," "?" "!"
  kSpacedWord,       // " house"
  kBareWord,         // "house" (continues the previous token)
  kCapitalWord,      // " House"
  kSpacedPiece,      // " tra"
  kBarePiece,        // "tra"
  kPseudoWord,       // " brastel"
  kEmpty,
};

struct VocabEntry {
  std::string text;
  TokenKind kind;
  int rank = 0;  // position among the words (0 = most common)
};

// Common words of English and Spanish, most frequent first.
constexpr std::string_view kWords[] = {
    "the", "de", "and", "la", "of", "que", "to", "el", "a", "en", "in", "y", "is", "los", "it",
    "se", "you", "del", "that", "las", "he", "un", "was", "por", "for", "con", "on", "no", "are",
    "una", "with", "su", "as", "para", "I", "es", "his", "al", "they", "lo", "be", "como", "at",
    "más", "one", "pero", "have", "sus", "this", "le", "from", "ha", "or", "me", "had", "si", "by",
    "sin", "hot", "sobre", "word", "este", "but", "ya", "what", "entre", "some", "cuando", "we",
    "todo", "can", "esta", "out", "ser", "other", "son", "were", "dos", "all", "también", "there",
    "fue", "when", "había", "up", "era", "use", "muy", "your", "años", "how", "hasta", "said",
    "desde", "an", "está", "each", "mi", "she", "porque", "which", "qué", "do", "sólo", "their",
    "han", "time", "yo", "if", "hay", "will", "vez", "way", "puede", "about", "todos", "many",
    "así", "then", "nos", "them", "ni", "write", "parte", "would", "tiene", "like", "él", "so",
    "uno", "these", "donde", "her", "bien", "long", "tiempo", "make", "mismo", "thing", "ese",
    "see", "ahora", "him", "cada", "two", "e", "has", "vida", "look", "otro", "more", "después",
    "day", "te", "could", "otros", "go", "aunque", "come", "esa", "did", "eso", "number", "hace",
    "sound", "otra", "most", "gobierno", "people", "tan", "my", "durante", "over", "siempre",
    "know", "día", "water", "tanto", "than", "ella", "call", "tres", "first", "sí", "who", "dijo",
    "may", "sido", "down", "gran", "side", "país", "been", "según", "now", "menos", "find",
    "mundo", "any", "año", "new", "antes", "work", "estado", "part", "contra", "take", "sino",
    "get", "forma", "place", "caso", "made", "nada", "live", "hacer", "where", "general",
    "after", "estaba", "back", "poco", "little", "estos", "only", "presidente", "round", "mayor",
    "man", "ante", "year", "unos", "came", "les", "show", "algo", "every", "hacia", "good",
    "casa", "give", "ellos", "our", "ayer", "under", "hecho", "name", "primera", "very",
    "mucho", "through", "mientras", "just", "además", "form", "quien", "great", "momento",
    "think", "millones", "say", "esto", "help", "España", "low", "hombre", "line", "están",
    "differ", "pues", "turn", "hoy", "cause", "lugar", "much", "madrid", "mean", "nacional",
    "before", "trabajo", "move", "otras", "right", "mejor", "boy", "nuevo", "old", "decir",
    "too", "algunos", "same", "entonces", "tell", "todas", "does", "días", "set", "debe",
    "three", "política", "want", "cómo", "air", "casi", "well", "toda", "also", "tal", "play",
    "luego", "small", "pasado", "end", "primer", "put", "medio", "home", "va", "read", "estas",
    "hand", "sea", "port", "tenía", "large", "nunca", "spell", "poder", "add", "aquí", "even",
    "ver", "land", "veces", "here", "embargo", "must", "partido", "big", "personas", "high",
    "grupo", "such", "cuenta", "follow", "pueden", "act", "tienen", "why", "misma", "ask",
    "nueva", "men", "cual", "change", "fueron", "went", "mujer", "light", "frente", "kind",
    "José", "off", "tras", "need", "cosas", "house", "fin", "picture", "ciudad", "try", "he",
    "us", "cuatro", "again", "social", "animal", "manera", "point", "tener", "mother", "sistema",
    "world", "será", "near", "historia", "build", "muchos", "self", "juan", "earth", "tipo",
    "father", "noche", "head", "agua", "stand", "calle", "own", "mañana", "page", "semana",
    "should", "gente", "country", "palabra", "found", "pueblo", "answer", "nombre", "school",
    "música", "grow", "radio", "study", "noticias", "still", "entrevista", "learn", "ministro",
};

constexpr std::string_view kOnsets[] = {"",   "b",  "c",  "d",  "f",  "g",  "h",  "j",
                                        "l",  "m",  "n",  "p",  "r",  "s",  "t",  "v",
                                        "z",  "br", "ch", "cr", "dr", "fl", "gr", "pl",
                                        "pr", "qu", "st", "tr", "ll", "sh"};
constexpr std::string_view kVowels[] = {"a", "e", "i", "o", "u", "ia", "ie", "io", "ue", "ou", "ea", "ai"};
constexpr std::string_view kCodas[] = {"",  "n",  "s",  "r",  "l",  "m",  "d",  "t",
                                       "nd", "nt", "st", "ng", "rs", "ck", "th", "z"};

// Made-up pieces are built from letters; these never appear in them.
constexpr std::string_view kBlockedPieces[] = {"fuck", "shit", "cunt", "dick", "cock", "puta", "puto",
                                               "mierd", "culo", "nig", "fag", "cum", "tit", "ass",
                                               "sex", "porn", "piss", "verga", "polla", "pene", "coño"};

bool blocked(std::string_view s) {
  for (auto b : kBlockedPieces) {
    if (s.find(b) != std::string_view::npos) return true;
  }
  return false;
}

std::string capitalized(std::string_view w) {
  std::string s(w);
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::vector<VocabEntry> build_vocabulary() {
  std::vector<VocabEntry> v;
  v.reserve(kStoredVocab);
  std::unordered_set<std::string> seen;
  auto add = [&](std::string text, TokenKind kind, int rank = 0) {
    if (static_cast<int>(v.size()) >= kStoredVocab - 1) return;
    if (kind != TokenKind::kSpacedWord && kind != TokenKind::kBareWord &&
        kind != TokenKind::kCapitalWord && blocked(text)) {
      return;
    }
    if (!seen.insert(text).second) return;
    v.push_back({std::move(text), kind, rank});
  };
  for (int b = 0; b < 256; ++b) {
    const auto c = static_cast<char>(b);
    TokenKind kind = TokenKind::kPrintableByte;
    if (b < 0x20 || b >= 0x7f) kind = TokenKind::kUnprintableByte;
    if (c == '.' || c == ',' || c == '?' || c == '!') kind = TokenKind::kPunctuation;
    v.push_back({std::string(1, c), kind, 0});
    seen.insert(v.back().text);
  }
  int rank = 0;
  for (std::string_view w : kWords) add(" " + std::string(w), TokenKind::kSpacedWord, rank++);
  rank = 0;
  for (std::string_view w : kWords) add(std::string(w), TokenKind::kBareWord, rank++);
  rank = 0;
  for (std::string_view w : kWords) add(" " + capitalized(w), TokenKind::kCapitalWord, rank++);

  std::vector<std::string> syllables;
  for (auto o : kOnsets)
    for (auto n : kVowels)
      for (auto c : kCodas) syllables.push_back(std::string(o) + std::string(n) + std::string(c));
  for (const auto& s : syllables) add(" " + s, TokenKind::kSpacedPiece);
  for (const auto& s : syllables) add(s, TokenKind::kBarePiece);
  // Made-up two-syllable words until the vocabulary is full.
  const size_t n = syllables.size();
  for (size_t k = 0; static_cast<int>(v.size()) < kStoredVocab - 1; ++k) {
    const auto& a = syllables[(k * 7) % n];
    const auto& b = syllables[(k * 13 + k / n) % n];
    add(" " + a + b, TokenKind::kPseudoWord);
  }
  v.push_back({std::string(), TokenKind::kEmpty, 0});  // id 50256: empty in the real vocabulary
  return v;
}

// ---------------------------------------------------------------------------------------------
// Writing

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

class ModelWriter {
 public:
  explicit ModelWriter(std::FILE* f) : f_(f) {}
  void i32(int32_t v) { bytes(&v, sizeof v); }
  void u32(uint32_t v) { bytes(&v, sizeof v); }
  void bytes(const void* p, size_t n) {
    if (ok_ && std::fwrite(p, 1, n, f_) != n) ok_ = false;
  }
  bool ok() const { return ok_; }

 private:
  std::FILE* f_;
  bool ok_ = true;
};

// A tensor: its ggml name, its dims (ne[0] first: the contiguous dimension), whether it is a
// matrix stored as f16 in an ftype-1 model, and how its rows (ne[0] values each) are filled.
using RowFill = std::function<void(std::span<float> row, int64_t row_index, Rng& rng)>;

void write_tensor(ModelWriter& w, uint64_t seed, bool f16_matrices, const std::string& name,
                  std::vector<int32_t> ne, bool matrix, const RowFill& fill) {
  const bool f16 = f16_matrices && matrix;
  w.i32(static_cast<int32_t>(ne.size()));
  w.i32(static_cast<int32_t>(name.size()));
  w.i32(f16 ? 1 : 0);
  int64_t rows = 1;
  for (size_t i = 0; i < ne.size(); ++i) {
    w.i32(ne[i]);
    if (i > 0) rows *= ne[i];
  }
  w.bytes(name.data(), name.size());
  Rng rng = tensor_rng(seed, name);
  std::vector<float> row(static_cast<size_t>(ne[0]));
  std::vector<uint16_t> half(row.size());
  for (int64_t r = 0; r < rows; ++r) {
    fill(row, r, rng);
    if (f16) {
      for (size_t i = 0; i < row.size(); ++i) half[i] = to_f16(row[i]);
      w.bytes(half.data(), half.size() * sizeof(uint16_t));
    } else {
      w.bytes(row.data(), row.size() * sizeof(float));
    }
  }
}

RowFill constant(float v) {
  return [v](std::span<float> row, int64_t, Rng&) { std::fill(row.begin(), row.end(), v); };
}
RowFill gaussian(float std_dev) {
  return [std_dev](std::span<float> row, int64_t, Rng& rng) {
    for (float& x : row) x = rng.normal() * std_dev;
  };
}

// whisper's encoder positional embedding: sinusoids, first half sin, second half cos.
RowFill sinusoids(int channels) {
  return [channels](std::span<float> row, int64_t pos, Rng&) {
    const int half = channels / 2;
    const double inc = std::log(10000.0) / (half - 1);
    for (int i = 0; i < half; ++i) {
      const double t = static_cast<double>(pos) * std::exp(-inc * i);
      row[static_cast<size_t>(i)] = static_cast<float>(std::sin(t));
      row[static_cast<size_t>(i + half)] = static_cast<float>(std::cos(t));
    }
  };
}


// ---------------------------------------------------------------------------------------------
// Decoder shaping.
//
// Random weights alone make whisper.cpp's greedy decoder loop on one token until the window is
// exhausted: its checks fail, every temperature fallback runs (slow) and no segment comes out. The
// encoder stays plainly random; the decoder is built so that greedy decoding writes word-like text
// with increasing timestamps, the same way in every 30 s window:
//
//  * Fixed-scale layer norms. Two position-embedding dimensions hold +Z and -Z, far larger than
//    anything else (their norm weights are 0), and every other input to a norm is centred, so each
//    norm's mean is ~0 and its scale ~Z: the norms become fixed linear maps and the final hidden
//    state h can be designed term by term. Logits = E h with E the (tied) token embedding.
//  * A bias per token. h[0] = h[10] = B at every step, so E[t][0] and E[t][10] (a coarse and a
//    fine part, for f16 precision) add bias(t) to token t's logit. Words with a leading space beat
//    pieces and bare words; bytes that are not printable ASCII, the empty token and <|nospeech|>
//    are pushed far down (output stays valid UTF-8, no_speech_prob stays ~0); "en" then "es" win
//    language detection.
//  * Peaked, varying choices. The centred ("free") dimensions of the embeddings are random with a
//    scale that sets the logit spread at one step (text_spread nats), so the chosen token is likely
//    (average log-probability above whisper's -1.0 fallback threshold); the residual stream is
//    dominated by the position embedding and the blocks' outputs (including cross-attention, so the
//    text depends on the audio) rather than by the previous token's own embedding, so the tied
//    embedding does not keep choosing the previous token (a loop fails the entropy check).
//  * A clock for timestamps, counted from <|startoftranscript|> (whisper puts the previous window's
//    text before it). Position embeddings carry beta*pos; in the first block one attention head
//    looks only at the SOT token (it carries a marker dimension) and subtracts its position, leaving
//    tau = pos - pos(SOT) in dimension 1; the first MLP computes (tau - 3)^2 piecewise-linearly into
//    dimension 3 and a bump at tau = 2 (the first step) into dimension 7. Timestamp j's embedding
//    reads them so that its logit is
//      peak - (j - ts_per_token * (tau - 3))^2 / (2 width^2)   (+ start_boost at the first step)
//    i.e. the preferred timestamp advances by ts_per_token (20 ms each) per decoded token. Text runs
//    until the timestamps' summed probability beats the best word (whisper's rule); a closing
//    timestamp near the clock ends the segment. End-of-text competes like a timestamp at 29 s, so a
//    window ends when the clock reaches its end. Constants are powers of two where f16 rounding
//    would otherwise blur the large, cancelling terms.
struct DecoderShape {
  float word_bias = 0.0f;
  float word_rank_bonus = 1.5f;    // the most common words get up to this much more
  float bare_word_bias = -4.0f;
  float capital_word_bias = -3.0f;
  float spaced_piece_bias = -7.0f;
  float bare_piece_bias = -9.0f;
  float pseudo_word_bias = -10.0f;
  float punctuation_bias = -1.0f;
  float printable_byte_bias = -8.0f;
  float suppressed_bias = -60.0f;
  float english_bias = 6.0f;
  float spanish_bias = 4.0f;
  float text_spread = 7.0f;        // std of text logits at one step (nats)
  float timestamp_spread = 2.5f;   // std of timestamp logits at one step
  float timestamp_peak = 12.0f;    // logit of the timestamp the clock points at
  float eot_offset = 6.0f;         // end-of-text = a timestamp at 29 s, this much more likely
  float start_boost = 15.0f;       // timestamps' extra logit at the first step
  float pos_std = 5.0f;            // per-dimension std of the position embedding
  float self_attn_out_std = 1.5f;  // per-dimension std each block adds to the residual stream
  float cross_attn_out_std = 8.0f;
  float mlp_out_std = 2.0f;
  float cross_qk_gain = 4.0f;      // > 1: cross-attention looks at a few audio frames, not all
  float hidden_gain = 8.0f;        // per-dimension std of h[free]; the embeddings shrink by as much
  float conv_gain = 4.0f;          // encoder: audio features over its position embedding
};

// Reserved dimensions of the decoder's residual stream come in pairs (a, a + 1). A signal s is
// written as x[a] = s, x[a + 1] = -s (so it adds nothing to a norm's mean) and read through norm
// weights (+w, -w), which gives w (x[a] - x[a + 1]) / S = 2 w s / S whatever the mean. A token
// embedding that reads a signal holds the same value e in both dimensions: its logit gains
// e (h[a] + h[a + 1]), and when it is the input it changes x[a] - x[a + 1] not at all. The other
// dimensions ("free") are centred.
constexpr int kPairBias = 0;       // h = (B, 0): the coarse part of each token's bias
constexpr int kPairBiasFine = 2;   // h = (B, 0): the rest, below f16's precision of the coarse part
constexpr int kPairClock = 4;      // s = beta pos; beta tau after the first block's SOT head
constexpr int kPairClock2 = 6;     // s = kClockGammaX (tau - 3)^2, from the first MLP
constexpr int kPairScale = 8;      // s = Z, the norms' scale
constexpr int kPairStart = 10;     // s = kStartX at tau = 2 (the first step), from the first MLP
constexpr int kPairSot = 12;       // s = 1 at <|startoftranscript|>
constexpr int kFirstFree = 14;

constexpr double kNormScale = 1e6;          // S: every norm's scale, set by Z
constexpr double kBiasScale = 16.0;         // B
constexpr double kClockBeta = 22.0;
constexpr double kClockA = 1.0 / 16384.0;   // E[ts j][clock] = a j (exact in f16)
constexpr double kClockH = 256.0;           // h[clock pair] = 256 (tau - 3) (exact in f16)
constexpr double kClockGammaX = 1.25;
constexpr double kClockC = -0.125;          // E[ts j][clock2]
constexpr int kClockTau0 = 3;               // tau of the second decoded token
constexpr double kStartX = 80.0;
constexpr double kStartTs = 1.0 / 64.0;     // E[ts j][start]
constexpr double kMlpSharpness = 10.0;      // gelu(10 u) / 10 = relu(u) at integer knots
constexpr int kEotTimestamp = 1450;         // end-of-text competes like <|29.00|>
constexpr int kTokenSot = 50258;

// The timestamp clock, derived from the constants: ts_per_token k, the width W with
// k / (W^2 a) = kClockH1, and the knots of the piecewise-linear (tau - 3)^2.
struct Clock {
  static constexpr double kTsPerToken = 12.0;  // 0.24 s per token
  static double width_sq() { return kTsPerToken / (kClockA * kClockH); }  // W^2 = 768
  // The (tau - 3)^2 term every timestamp shares: ts_per_token^2 / (2 W^2).
  static double quad() { return kTsPerToken * kTsPerToken / (2.0 * width_sq()); }
  // Knots every 4 positions up to tau = 127 (the end of a 30 s window), then every 16.
  static std::vector<int> knots() {
    std::vector<int> k;
    for (int t = kClockTau0; t <= 127; t += 4) k.push_back(t);
    for (int t = 143; t <= 239; t += 16) k.push_back(t);
    return k;
  }
  // Coefficients c_m of sum_m c_m relu(tau - t_m) = (tau - 3)^2 at the knots.
  static std::vector<double> coefficients() {
    const auto k = knots();
    std::vector<double> c(k.size());
    double prev_slope = 0;
    for (size_t i = 0; i + 1 < k.size(); ++i) {
      const double q0 = std::pow(k[i] - kClockTau0, 2), q1 = std::pow(k[i + 1] - kClockTau0, 2);
      const double slope = (q1 - q0) / (k[i + 1] - k[i]);
      c[i] = slope - prev_slope;
      prev_slope = slope;
    }
    c.back() = 0;
    return c;
  }
};

// Everything the tensors need, derived once from the shape and the model width.
struct DecoderPlan {
  DecoderShape s;
  int d = 0;
  int n_head = 0;
  int n_free = 0;
  double text_embed_std = 0;  // per free dimension
  double ts_embed_std = 0;
  std::vector<double> block_in_std;  // per-dimension std of the free residual entering block l
  double final_std = 0;

  DecoderPlan(const DecoderShape& shape, const WhisperHparams& hp)
      : s(shape), d(hp.n_text_state), n_head(hp.n_text_head) {
    n_free = d - kFirstFree;
    text_embed_std = s.text_spread / (s.hidden_gain * std::sqrt(static_cast<double>(n_free)));
    ts_embed_std = s.timestamp_spread / (s.hidden_gain * std::sqrt(static_cast<double>(n_free)));
    double var = s.pos_std * s.pos_std + text_embed_std * text_embed_std;
    for (int l = 0; l < hp.n_text_layer; ++l) {
      block_in_std.push_back(std::sqrt(var));
      var += s.self_attn_out_std * s.self_attn_out_std +
             s.cross_attn_out_std * s.cross_attn_out_std + s.mlp_out_std * s.mlp_out_std;
    }
    final_std = std::sqrt(var);
  }
  int head_dim() const { return d / n_head; }
};

float token_bias(const DecoderShape& s, int id, const std::vector<VocabEntry>& vocab) {
  if (id < kStoredVocab) {
    const VocabEntry& e = vocab[static_cast<size_t>(id)];
    const float common = s.word_rank_bonus * (1.0f - static_cast<float>(e.rank) / 512.0f);
    switch (e.kind) {
      case TokenKind::kUnprintableByte: return s.suppressed_bias;
      case TokenKind::kPrintableByte: return s.printable_byte_bias;
      case TokenKind::kPunctuation: return s.punctuation_bias;
      case TokenKind::kSpacedWord: return s.word_bias + common;
      case TokenKind::kBareWord: return s.bare_word_bias + common;
      case TokenKind::kCapitalWord: return s.capital_word_bias + common;
      case TokenKind::kSpacedPiece: return s.spaced_piece_bias;
      case TokenKind::kBarePiece: return s.bare_piece_bias;
      case TokenKind::kPseudoWord: return s.pseudo_word_bias;
      case TokenKind::kEmpty: return s.suppressed_bias;
    }
    return s.suppressed_bias;
  }
  if (id == kTokenLangFirst) return s.english_bias;
  if (id == kTokenLangFirst + 3) return s.spanish_bias;
  return s.suppressed_bias;  // SOT, other languages, task tokens, <|nospeech|>, <|notimestamps|>
}

void set_pair(std::span<float> row, int pair, double value_a, double value_b) {
  row[static_cast<size_t>(pair)] = static_cast<float>(value_a);
  row[static_cast<size_t>(pair + 1)] = static_cast<float>(value_b);
}

// Writes `bias` into the coarse and fine bias pairs.
void set_bias(std::span<float> row, double bias) {
  const float coarse = to_f32(to_f16(static_cast<float>(bias / kBiasScale)));
  const double fine = bias / kBiasScale - coarse;
  set_pair(row, kPairBias, coarse, -coarse);
  set_pair(row, kPairBiasFine, fine, -fine);
}

// Centres `row` over the free dimensions and zeroes the reserved ones.
void centre_free(std::span<float> row) {
  double mean = 0;
  for (size_t i = kFirstFree; i < row.size(); ++i) mean += row[i];
  mean /= static_cast<double>(row.size() - kFirstFree);
  for (size_t i = 0; i < row.size(); ++i) {
    row[i] = i < static_cast<size_t>(kFirstFree) ? 0.0f : static_cast<float>(row[i] - mean);
  }
}

void fill_token_embedding(const DecoderPlan& plan, const std::vector<VocabEntry>& vocab, int id,
                          std::span<float> row, Rng& rng) {
  const bool timestamp = id >= kTokenTimestampFirst;
  const bool eot = id == kTokenEot;
  const double free_std = id < kStoredVocab ? plan.text_embed_std : (timestamp || eot) ? plan.ts_embed_std : 0.0;
  for (float& x : row) x = rng.normal();
  centre_free(row);
  // Every row of a kind has the same norm, so no token has a wider spread than the others.
  double norm = 0;
  for (float x : row) norm += static_cast<double>(x) * x;
  const double scale = norm > 0 ? free_std * std::sqrt(plan.n_free / norm) : 0.0;
  for (float& x : row) x = static_cast<float>(x * scale);
  if (timestamp || eot) {
    const double j = timestamp ? id - kTokenTimestampFirst : kEotTimestamp;
    set_bias(row, plan.s.timestamp_peak + (eot ? plan.s.eot_offset : 0.0) - j * j / (2.0 * Clock::width_sq()));
    set_pair(row, kPairClock, kClockA * j, kClockA * j);
    set_pair(row, kPairClock2, kClockC, kClockC);
    if (timestamp) set_pair(row, kPairStart, kStartTs, kStartTs);
  } else {
    set_bias(row, token_bias(plan.s, id, vocab));
  }
  if (id == kTokenSot) set_pair(row, kPairSot, 1.0, -1.0);
}

// A whole matrix (rows x cols, row-major) built at the first row, then handed out row by row.
RowFill whole_matrix(int rows, int cols, std::function<void(std::vector<float>&, Rng&)> build) {
  auto m = std::make_shared<std::vector<float>>();
  return [=](std::span<float> row, int64_t r, Rng& rng) {
    if (m->empty()) {
      m->assign(static_cast<size_t>(rows) * static_cast<size_t>(cols), 0.0f);
      build(*m, rng);
    }
    std::copy_n(m->begin() + r * cols, cols, row.begin());
  };
}

// An input projection reading the residual stream (rows: outputs, cols: residual dimensions):
// random on the free columns, 0 on the reserved ones.
void random_input_projection(std::vector<float>& m, int rows, int d, double std_dev, Rng& rng,
                             int first_row = 0) {
  for (int r = first_row; r < rows; ++r) {
    for (int c = kFirstFree; c < d; ++c) {
      m[static_cast<size_t>(r * d + c)] = static_cast<float>(rng.normal() * std_dev);
    }
  }
}

// An output projection into the residual stream (rows: residual dimensions, cols: inputs): random
// on the free rows with every column centred over them (the block's output has mean 0), reserved
// rows 0. Columns below first_col are left to the caller.
void random_output_projection(std::vector<float>& m, int d, int cols, double std_dev, Rng& rng,
                              int first_col = 0) {
  for (int c = first_col; c < cols; ++c) {
    double mean = 0;
    for (int r = kFirstFree; r < d; ++r) {
      float& x = m[static_cast<size_t>(r * cols + c)];
      x = static_cast<float>(rng.normal() * std_dev);
      mean += x;
    }
    mean /= (d - kFirstFree);
    for (int r = kFirstFree; r < d; ++r) m[static_cast<size_t>(r * cols + c)] -= static_cast<float>(mean);
  }
}

// A norm's weight: `gain` on the free dimensions, (+w, -w) on the pairs it reads, 0 elsewhere.
RowFill norm_weight(double gain, std::vector<std::pair<int, double>> pairs = {}) {
  return [gain, pairs](std::span<float> row, int64_t, Rng&) {
    for (size_t i = 0; i < row.size(); ++i) row[i] = i < kFirstFree ? 0.0f : static_cast<float>(gain);
    for (auto [pair, w] : pairs) set_pair(row, pair, w, -w);
  };
}

// The hidden units of the first MLP that compute the clock: a bump at tau = 2 (three units)
// and the piecewise-linear (tau - 3)^2, each unit gelu(10 (tau - knot)).
struct ClockUnit {
  int knot;
  int out_pair;
  double out_weight;
};
std::vector<ClockUnit> clock_units() {
  std::vector<ClockUnit> u = {{1, kPairStart, kStartX}, {2, kPairStart, -2 * kStartX}, {3, kPairStart, kStartX}};
  const auto knots = Clock::knots();
  const auto coef = Clock::coefficients();
  for (size_t i = 0; i < knots.size(); ++i) {
    if (coef[i] != 0) u.push_back({knots[i], kPairClock2, kClockGammaX * coef[i]});
  }
  return u;
}

void write_decoder(ModelWriter& w, uint64_t seed, const WhisperHparams& hp,
                   const std::vector<VocabEntry>& vocab) {
  const bool f16 = hp.ftype == 1;
  const int d = hp.n_text_state;
  const int hidden = 4 * d;
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(d));
  const DecoderPlan plan(DecoderShape{}, hp);
  const DecoderShape& s = plan.s;
  const int dh = plan.head_dim();
  const auto units = clock_units();
  const int n_units = static_cast<int>(units.size());
  auto t = [&](const std::string& name, std::vector<int32_t> ne, bool matrix, const RowFill& fill) {
    write_tensor(w, seed, f16, name, std::move(ne), matrix, fill);
  };

  const double z = kNormScale * std::sqrt(d / 2.0);
  t("decoder.positional_embedding", {d, hp.n_text_ctx}, false,
    [&](std::span<float> row, int64_t pos, Rng& rng) {
      for (float& x : row) x = rng.normal() * s.pos_std;
      centre_free(row);
      const double clock = kClockBeta * static_cast<double>(pos);
      set_pair(row, kPairClock, clock, -clock);
      set_pair(row, kPairScale, z, -z);
    });
  t("decoder.token_embedding.weight", {d, hp.n_vocab}, true,
    [&](std::span<float> row, int64_t id, Rng& rng) {
      fill_token_embedding(plan, vocab, static_cast<int>(id), row, rng);
    });
  // Final norm: h[free] has a spread of hidden_gain; the bias pairs give B; the clock pair sums
  // to 256 (tau - 3), the clock2 pair to what makes the shared timestamp term -quad (tau - 3)^2,
  // the start pair to start_boost / kStartTs at the first step.
  t("decoder.ln.weight", {d}, false,
    norm_weight(s.hidden_gain * kNormScale / plan.final_std,
                {{kPairClock, kClockH * kNormScale / (2 * kClockBeta)},
                 {kPairClock2, -Clock::quad() * kNormScale / (2 * kClockC * kClockGammaX)},
                 {kPairStart, s.start_boost * kNormScale / (2 * kStartTs * kStartX)}}));
  t("decoder.ln.bias", {d}, false, [&](std::span<float> row, int64_t, Rng&) {
    std::fill(row.begin(), row.end(), 0.0f);
    row[kPairBias] = static_cast<float>(kBiasScale);
    row[kPairBiasFine] = static_cast<float>(kBiasScale);
    const double offset = -kClockH * kClockTau0 / 2;
    set_pair(row, kPairClock, offset, offset);
  });

  for (int l = 0; l < hp.n_text_layer; ++l) {
    const std::string p = "decoder.blocks." + std::to_string(l) + ".";
    const bool first = l == 0;
    const double gain = kNormScale / plan.block_in_std[static_cast<size_t>(l)];
    // In the first block, the norms also pass the position (tau after the SOT head) as a plain
    // number and the SOT marker (each read as the sum of its pair).
    const double tau_gain = kNormScale / (2 * kClockBeta);
    std::vector<std::pair<int, double>> attn_extra, mlp_extra;
    if (first) {
      attn_extra = {{kPairClock, tau_gain}, {kPairSot, kNormScale / 2}};
      mlp_extra = {{kPairClock, tau_gain}};
    }
    const int sot_head_dims = first ? dh : 0;  // head 0 of the first block looks at SOT only

    t(p + "mlp_ln.weight", {d}, false, norm_weight(gain, mlp_extra));
    t(p + "mlp_ln.bias", {d}, false, constant(0.0f));
    const int clock_rows = first ? n_units : 0;
    t(p + "mlp.0.weight", {d, hidden}, true, whole_matrix(hidden, d, [&](std::vector<float>& m, Rng& rng) {
        random_input_projection(m, hidden, d, inv_sqrt_d, rng, clock_rows);
        for (int u = 0; u < clock_rows; ++u) {
          m[static_cast<size_t>(u * d + kPairClock)] = static_cast<float>(kMlpSharpness);
          m[static_cast<size_t>(u * d + kPairClock + 1)] = static_cast<float>(kMlpSharpness);
        }
      }));
    t(p + "mlp.0.bias", {hidden}, false, [&](std::span<float> row, int64_t, Rng&) {
      std::fill(row.begin(), row.end(), 0.0f);
      for (int u = 0; u < clock_rows; ++u) row[static_cast<size_t>(u)] = static_cast<float>(-kMlpSharpness * units[static_cast<size_t>(u)].knot);
    });
    // gelu of a unit normal has an rms of ~0.65
    const double mlp_std = s.mlp_out_std / (0.65 * std::sqrt(static_cast<double>(hidden - clock_rows)));
    t(p + "mlp.2.weight", {hidden, d}, true, whole_matrix(d, hidden, [&](std::vector<float>& m, Rng& rng) {
        random_output_projection(m, d, hidden, mlp_std, rng, clock_rows);
        for (int u = 0; u < clock_rows; ++u) {
          const auto& cu = units[static_cast<size_t>(u)];
          const double v = cu.out_weight / kMlpSharpness;
          m[static_cast<size_t>(cu.out_pair * hidden + u)] = static_cast<float>(v);
          m[static_cast<size_t>((cu.out_pair + 1) * hidden + u)] = static_cast<float>(-v);
        }
      }));
    t(p + "mlp.2.bias", {d}, false, constant(0.0f));

    t(p + "attn_ln.weight", {d}, false, norm_weight(gain, attn_extra));
    t(p + "attn_ln.bias", {d}, false, constant(0.0f));
    t(p + "attn.query.weight", {d, d}, true, whole_matrix(d, d, [&](std::vector<float>& m, Rng& rng) {
        random_input_projection(m, d, d, inv_sqrt_d, rng, sot_head_dims);
      }));
    // The SOT head's query is a constant; its key is the SOT marker: a score of 40 at SOT, 0
    // elsewhere (whisper scales q and k by dh^-1/4 each).
    const double sot_key = 40.0 * std::sqrt(static_cast<double>(dh));
    t(p + "attn.query.bias", {d}, false, [&](std::span<float> row, int64_t, Rng&) {
      std::fill(row.begin(), row.end(), 0.0f);
      if (first) row[0] = 1.0f;
    });
    t(p + "attn.key.weight", {d, d}, true, whole_matrix(d, d, [&](std::vector<float>& m, Rng& rng) {
        random_input_projection(m, d, d, inv_sqrt_d, rng, sot_head_dims);
        if (first) {
          m[static_cast<size_t>(kPairSot)] = static_cast<float>(sot_key);
          m[static_cast<size_t>(kPairSot + 1)] = static_cast<float>(sot_key);
        }
      }));
    // Its value is the position (tau at SOT is its absolute position).
    t(p + "attn.value.weight", {d, d}, true, whole_matrix(d, d, [&](std::vector<float>& m, Rng& rng) {
        random_input_projection(m, d, d, inv_sqrt_d, rng, sot_head_dims);
        if (first) {
          m[static_cast<size_t>(kPairClock)] = 1.0f;
          m[static_cast<size_t>(kPairClock + 1)] = 1.0f;
        }
      }));
    t(p + "attn.value.bias", {d}, false, constant(0.0f));
    // ... which is subtracted from the clock dimension: x[1] = beta (pos - pos(SOT)).
    t(p + "attn.out.weight", {d, d}, true, whole_matrix(d, d, [&](std::vector<float>& m, Rng& rng) {
        random_output_projection(m, d, d, s.self_attn_out_std * inv_sqrt_d, rng, sot_head_dims);
        if (first) {
          m[static_cast<size_t>(kPairClock * d)] = static_cast<float>(-kClockBeta);
          m[static_cast<size_t>((kPairClock + 1) * d)] = static_cast<float>(kClockBeta);
        }
      }));
    t(p + "attn.out.bias", {d}, false, constant(0.0f));

    t(p + "cross_attn_ln.weight", {d}, false, norm_weight(gain));
    t(p + "cross_attn_ln.bias", {d}, false, constant(0.0f));
    const double qk = s.cross_qk_gain * inv_sqrt_d;
    t(p + "cross_attn.query.weight", {d, d}, true, whole_matrix(d, d, [&](std::vector<float>& m, Rng& rng) {
        random_input_projection(m, d, d, qk, rng);
      }));
    t(p + "cross_attn.query.bias", {d}, false, constant(0.0f));
    // Keys and values read the encoder's output: plain random.
    t(p + "cross_attn.key.weight", {d, d}, true, gaussian(static_cast<float>(qk)));
    t(p + "cross_attn.value.weight", {d, d}, true, gaussian(static_cast<float>(inv_sqrt_d)));
    t(p + "cross_attn.value.bias", {d}, false, constant(0.0f));
    t(p + "cross_attn.out.weight", {d, d}, true, whole_matrix(d, d, [&](std::vector<float>& m, Rng& rng) {
        random_output_projection(m, d, d, s.cross_attn_out_std * inv_sqrt_d, rng);
      }));
    t(p + "cross_attn.out.bias", {d}, false, constant(0.0f));
  }
}

void write_encoder(ModelWriter& w, uint64_t seed, const WhisperHparams& hp, const DecoderShape& shape) {
  const bool f16 = hp.ftype == 1;
  const int d = hp.n_audio_state;
  const float inv_sqrt_d = 1.0f / std::sqrt(static_cast<float>(d));
  auto t = [&](const std::string& name, std::vector<int32_t> ne, bool matrix, const RowFill& fill) {
    write_tensor(w, seed, f16, name, std::move(ne), matrix, fill);
  };
  t("encoder.positional_embedding", {d, hp.n_audio_ctx}, false, sinusoids(d));
  t("encoder.conv1.weight", {3, hp.n_mels, d}, true,
    gaussian(shape.conv_gain / std::sqrt(3.0f * static_cast<float>(hp.n_mels))));
  t("encoder.conv1.bias", {1, d}, false, constant(0.0f));
  t("encoder.conv2.weight", {3, d, d}, true, gaussian(shape.conv_gain / std::sqrt(3.0f * static_cast<float>(d))));
  t("encoder.conv2.bias", {1, d}, false, constant(0.0f));
  for (int l = 0; l < hp.n_audio_layer; ++l) {
    const std::string p = "encoder.blocks." + std::to_string(l) + ".";
    t(p + "mlp_ln.weight", {d}, false, constant(1.0f));
    t(p + "mlp_ln.bias", {d}, false, constant(0.0f));
    t(p + "mlp.0.weight", {d, 4 * d}, true, gaussian(inv_sqrt_d));
    t(p + "mlp.0.bias", {4 * d}, false, constant(0.0f));
    t(p + "mlp.2.weight", {4 * d, d}, true, gaussian(inv_sqrt_d * 0.5f));
    t(p + "mlp.2.bias", {d}, false, constant(0.0f));
    t(p + "attn_ln.weight", {d}, false, constant(1.0f));
    t(p + "attn_ln.bias", {d}, false, constant(0.0f));
    t(p + "attn.query.weight", {d, d}, true, gaussian(inv_sqrt_d));
    t(p + "attn.query.bias", {d}, false, constant(0.0f));
    t(p + "attn.key.weight", {d, d}, true, gaussian(inv_sqrt_d));
    t(p + "attn.value.weight", {d, d}, true, gaussian(inv_sqrt_d));
    t(p + "attn.value.bias", {d}, false, constant(0.0f));
    t(p + "attn.out.weight", {d, d}, true, gaussian(inv_sqrt_d));
    t(p + "attn.out.bias", {d}, false, constant(0.0f));
  }
  t("encoder.ln_post.weight", {d}, false, constant(1.0f));
  t("encoder.ln_post.bias", {d}, false, constant(0.0f));
}

double hz_to_mel_slaney(double hz) {
  constexpr double kSp = 200.0 / 3.0;
  constexpr double kMinLogHz = 1000.0;
  constexpr double kMinLogMel = kMinLogHz / kSp;
  const double logstep = std::log(6.4) / 27.0;
  return hz < kMinLogHz ? hz / kSp : kMinLogMel + std::log(hz / kMinLogHz) / logstep;
}

double mel_to_hz_slaney(double mel) {
  constexpr double kSp = 200.0 / 3.0;
  constexpr double kMinLogHz = 1000.0;
  constexpr double kMinLogMel = kMinLogHz / kSp;
  const double logstep = std::log(6.4) / 27.0;
  return mel < kMinLogMel ? mel * kSp : kMinLogHz * std::exp(logstep * (mel - kMinLogMel));
}

Result<void> io_error(const fs::path& p, std::string_view what) {
  return make_error(ErrorCode::kIo, std::string(what) + " '" + p.string() + "': " + std::strerror(errno));
}

}  // namespace

Result<TestModelDims> parse_test_model_dims(std::string_view name) {
  if (name == "micro") return TestModelDims::kMicro;
  if (name == "tiny") return TestModelDims::kTiny;
  if (name == "base") return TestModelDims::kBase;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown model size '" + std::string(name) + "' (use micro, tiny or base)");
}

std::string_view test_model_dims_name(TestModelDims dims) {
  switch (dims) {
    case TestModelDims::kMicro: return "micro";
    case TestModelDims::kTiny: return "tiny";
    case TestModelDims::kBase: return "base";
  }
  return "micro";
}

WhisperHparams hparams_for(TestModelDims dims) {
  WhisperHparams hp;
  auto set = [&hp](int32_t state, int32_t heads, int32_t audio_layers, int32_t text_layers) {
    hp.n_audio_state = hp.n_text_state = state;
    hp.n_audio_head = hp.n_text_head = heads;
    hp.n_audio_layer = audio_layers;
    hp.n_text_layer = text_layers;
  };
  switch (dims) {
    // Not 2 text layers: whisper.cpp takes a 2-layer decoder for a distilled model and turns
    // timestamps off for it.
    case TestModelDims::kMicro: set(64, 2, 2, 1); break;
    case TestModelDims::kTiny: set(384, 6, 4, 4); break;
    case TestModelDims::kBase: set(512, 8, 6, 6); break;
  }
  return hp;
}

std::vector<float> slaney_mel_filters(int n_mels, int n_fft, int sample_rate) {
  const int n_bins = n_fft / 2 + 1;
  const double fmax = sample_rate / 2.0;
  const double mel_max = hz_to_mel_slaney(fmax);
  std::vector<double> mel_f(static_cast<size_t>(n_mels + 2));
  for (int i = 0; i < n_mels + 2; ++i) {
    mel_f[static_cast<size_t>(i)] = mel_to_hz_slaney(mel_max * i / (n_mels + 1));
  }
  std::vector<float> out(static_cast<size_t>(n_mels * n_bins), 0.0f);
  for (int m = 0; m < n_mels; ++m) {
    const double lo = mel_f[static_cast<size_t>(m)];
    const double mid = mel_f[static_cast<size_t>(m + 1)];
    const double hi = mel_f[static_cast<size_t>(m + 2)];
    const double enorm = 2.0 / (hi - lo);
    for (int k = 0; k < n_bins; ++k) {
      const double f = fmax * k / (n_bins - 1);
      const double lower = (f - lo) / (mid - lo);
      const double upper = (hi - f) / (hi - mid);
      const double wgt = std::max(0.0, std::min(lower, upper));
      out[static_cast<size_t>(m * n_bins + k)] = static_cast<float>(wgt * enorm);
    }
  }
  return out;
}

std::vector<std::string> test_vocabulary() {
  std::vector<std::string> out;
  for (auto& e : build_vocabulary()) out.push_back(std::move(e.text));
  return out;
}

Result<void> write_test_model(const fs::path& path, const TestModelOptions& options) {
  const WhisperHparams hp = hparams_for(options.dims);
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  if (!path.parent_path().empty()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
  }
  {
    FilePtr f(std::fopen(tmp.c_str(), "wb"));
    if (!f) return io_error(tmp, "cannot write");
    std::vector<char> buffer(1 << 20);
    std::setvbuf(f.get(), buffer.data(), _IOFBF, buffer.size());
    ModelWriter w(f.get());

    w.u32(kGgmlMagic);
    for (int32_t v : {hp.n_vocab, hp.n_audio_ctx, hp.n_audio_state, hp.n_audio_head, hp.n_audio_layer,
                      hp.n_text_ctx, hp.n_text_state, hp.n_text_head, hp.n_text_layer, hp.n_mels,
                      hp.ftype}) {
      w.i32(v);
    }
    const std::vector<float> filters = slaney_mel_filters(hp.n_mels, kNfft, kSampleRate);
    w.i32(hp.n_mels);
    w.i32(kNfft / 2 + 1);
    w.bytes(filters.data(), filters.size() * sizeof(float));

    const std::vector<VocabEntry> vocab = build_vocabulary();
    w.i32(static_cast<int32_t>(vocab.size()));
    for (const auto& e : vocab) {
      w.u32(static_cast<uint32_t>(e.text.size()));
      w.bytes(e.text.data(), e.text.size());
    }

    write_encoder(w, options.seed, hp, DecoderShape{});
    write_decoder(w, options.seed, hp, vocab);

    if (!w.ok() || std::fflush(f.get()) != 0 || ::fsync(::fileno(f.get())) != 0) {
      auto err = io_error(tmp, "cannot write");
      f.reset();
      ::unlink(tmp.c_str());
      return err;
    }
    if (std::fclose(f.release()) != 0) {
      auto err = io_error(tmp, "cannot close");
      ::unlink(tmp.c_str());
      return err;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = io_error(path, "cannot rename the model into");
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

Result<WhisperFileInfo> read_whisper_file_info(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return make_error(ErrorCode::kModelMissing, "no model file at '" + path.string() + "'");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kModelInvalid, "cannot open '" + path.string() + "'");
  auto invalid = [&](std::string_view why) {
    return make_error(ErrorCode::kModelInvalid,
                      "'" + path.string() + "' is not a whisper ggml model: " + std::string(why));
  };
  auto read_i32 = [&in](int32_t& v) { return static_cast<bool>(in.read(reinterpret_cast<char*>(&v), sizeof v)); };
  uint32_t magic = 0;
  if (!in.read(reinterpret_cast<char*>(&magic), sizeof magic) || magic != kGgmlMagic) {
    return invalid("bad magic");
  }
  WhisperFileInfo info;
  WhisperHparams& hp = info.hparams;
  for (int32_t* v : {&hp.n_vocab, &hp.n_audio_ctx, &hp.n_audio_state, &hp.n_audio_head,
                     &hp.n_audio_layer, &hp.n_text_ctx, &hp.n_text_state, &hp.n_text_head,
                     &hp.n_text_layer, &hp.n_mels, &hp.ftype}) {
    if (!read_i32(*v)) return invalid("truncated header");
  }
  if (!read_i32(info.n_mel_filters) || !read_i32(info.n_fft_bins) || info.n_mel_filters <= 0 ||
      info.n_fft_bins <= 0 || info.n_mel_filters > 512 || info.n_fft_bins > 4096) {
    return invalid("bad mel filterbank");
  }
  in.seekg(static_cast<std::streamoff>(info.n_mel_filters) * info.n_fft_bins * 4, std::ios::cur);
  if (!read_i32(info.n_vocab_strings) || info.n_vocab_strings <= 0 || info.n_vocab_strings > hp.n_vocab) {
    return invalid("bad vocabulary size");
  }
  for (int32_t i = 0; i < info.n_vocab_strings; ++i) {
    int32_t len = 0;
    if (!read_i32(len) || len < 0 || len > 1024) return invalid("bad vocabulary entry");
    in.seekg(len, std::ios::cur);
  }
  if (!in) return invalid("truncated vocabulary");
  const auto file_size = static_cast<int64_t>(fs::file_size(path, ec));
  while (static_cast<int64_t>(in.tellg()) < file_size) {
    int32_t n_dims = 0, name_len = 0, ttype = 0;
    if (!read_i32(n_dims) || !read_i32(name_len) || !read_i32(ttype) || n_dims < 1 || n_dims > 4 ||
        name_len <= 0 || name_len > 256 || ttype < 0 || ttype > 1) {
      // Quantized tensors have other types; their sizes need ggml's block tables, so stop here.
      if (ttype > 1) break;
      return invalid("bad tensor header");
    }
    int64_t n = 1;
    for (int32_t d = 0; d < n_dims; ++d) {
      int32_t ne = 0;
      if (!read_i32(ne) || ne <= 0) return invalid("bad tensor shape");
      n *= ne;
    }
    in.seekg(name_len + n * (ttype == 1 ? 2 : 4), std::ios::cur);
    if (!in) return invalid("truncated tensor");
    ++info.n_tensors;
  }
  return info;
}

}  // namespace aimara::asr
