#include "nlp/features.h"

#include <algorithm>
#include <array>

#include "nlp/entity_gazetteer.h"
#include "nlp/text_case.h"
#include "nlp/word_profiles.h"

namespace aimara::nlp {

namespace {

// Template ids. Never renumber: they are part of kFeatureSetVersion.
enum Template : uint64_t {
  kBias = 1,
  kWord,
  kLower,
  kShape,
  kCase,
  kCaseFirst,
  kLength,
  kFlags,
  kPrefix,   // + n
  kSuffix,   // + n
  kLowerM1,
  kLowerP1,
  kLowerM2,
  kLowerP2,
  kBigramM1,
  kBigramP1,
  kShapeM1,
  kShapeP1,
  kShapeM2,
  kShapeP2,
  kShapeTri,
  kCaseTri,
  kLowerM1Case,
  kCaseP1Lower,
  kSuffix3M1,
  kSuffix3P1,
  kGazetteer,
  kGazetteerM1,
  kGazetteerP1,
  kProfileCase,
  kProfileFrequency,
  kProfileM1,
  kLowerM1M2,
  kLowerP1P2,
  kLowerM3,
  kLowerP3,
  kLowerM1P1,
  kProfileP1,
  // stage 2
  kStackLabel,
  kStackLabelM1,
  kStackLabelP1,
  kStackLabelM2,
  kStackLabelP2,
  kStackLabelTri,
  kStackWordMajority,
  kStackWordSeenAs,
  kStackEntityMajority,
  kStackLabelCase,
  kWindowBag,
};

constexpr uint64_t kBos = 0x5e5e'0b05'0b05'5e5eULL;
constexpr uint64_t kEos = 0xe0e0'0e05'0e05'e0e0ULL;

struct TokenAttrs {
  uint64_t word = 0;
  uint64_t lower = 0;
  uint64_t shape = 0;
  std::array<uint64_t, 5> prefix{};  // 0 when the word is shorter
  std::array<uint64_t, 5> suffix{};
  uint32_t wcase = 0;
  uint32_t length = 0;
  uint32_t flags = 0;
  uint32_t gazetteer = 0;
  uint32_t profile = 0;  // word_profiles.h; 0: unknown word
};

uint32_t length_bucket(size_t chars) {
  if (chars <= 4) return static_cast<uint32_t>(chars);
  if (chars <= 6) return 5;
  if (chars <= 9) return 6;
  return 7;
}

std::string normalise_digits(std::string s) {
  for (char& c : s) {
    if (c >= '0' && c <= '9') c = '0';
  }
  return s;
}

void compute_attrs(std::string_view word, TokenAttrs& a) {
  a.word = hash_bytes(word);
  const std::string lower = normalise_digits(to_lower_utf8(word));
  a.lower = hash_bytes(lower);
  a.shape = hash_bytes(word_shape(word));
  a.wcase = static_cast<uint32_t>(word_case(word));

  // code point starts of the lowercased word
  std::array<size_t, 64> starts{};
  size_t n = 0;
  for (size_t i = 0; i < lower.size() && n < starts.size(); ++i) {
    if ((static_cast<unsigned char>(lower[i]) & 0xC0) != 0x80) starts[n++] = i;
  }
  a.length = length_bucket(n);
  // prefix k: the first k code points; starts[k] is where code point k begins (or the end)
  for (size_t k = 1; k <= a.prefix.size(); ++k) {
    if (n < k) {
      a.prefix[k - 1] = 0;
      a.suffix[k - 1] = 0;
      continue;
    }
    const size_t pend = k < n ? starts[k] : lower.size();
    a.prefix[k - 1] = hash_bytes(std::string_view(lower).substr(0, pend));
    const size_t sbegin = starts[n - k];
    a.suffix[k - 1] = hash_bytes(std::string_view(lower).substr(sbegin));
  }

  bool digit = false, all_digits = !word.empty(), hyphen = false, dot = false, alnum = false;
  for (char c : word) {
    const bool d = c >= '0' && c <= '9';
    digit |= d;
    all_digits &= d;
    hyphen |= c == '-';
    dot |= c == '.';
    alnum |= d || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (static_cast<unsigned char>(c) >= 0x80);
  }
  a.flags = (digit ? 1u : 0u) | (all_digits ? 2u : 0u) | (hyphen ? 4u : 0u) | (dot ? 8u : 0u) |
            (alnum ? 0u : 16u);
}

inline uint64_t f1(uint64_t t, uint64_t v) { return hash_combine(t * 0x100000001b3ULL, v); }
inline uint64_t f2(uint64_t t, uint64_t a, uint64_t b) { return hash_combine(f1(t, a), b); }
inline uint64_t f3(uint64_t t, uint64_t a, uint64_t b, uint64_t c) {
  return hash_combine(f2(t, a, b), c);
}

}  // namespace

uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return hash_mix(h ^ s.size());
}

uint64_t word_key(std::string_view word) {
  return hash_bytes(normalise_digits(to_lower_utf8(word)));
}

void extract_features(std::span<const std::string_view> words, const FeatureResources& res,
                      SentenceFeatures& out) {
  const size_t n = words.size();
  out.keys.clear();
  out.offsets.assign(1, 0);
  out.word_keys.clear();
  if (n == 0) return;

  thread_local std::vector<TokenAttrs> attrs;
  thread_local std::vector<uint32_t> marks;
  attrs.assign(n, TokenAttrs{});
  out.word_keys.resize(n);
  for (size_t i = 0; i < n; ++i) {
    compute_attrs(words[i], attrs[i]);
    out.word_keys[i] = attrs[i].lower;
  }
  if (res.gazetteer != nullptr) {
    res.gazetteer->mark(out.word_keys, marks);
    for (size_t i = 0; i < n; ++i) attrs[i].gazetteer = marks[i];
  }
  if (res.word_profiles != nullptr) {
    for (size_t i = 0; i < n; ++i) {
      auto it = res.word_profiles->find(attrs[i].lower);
      if (it != res.word_profiles->end()) attrs[i].profile = it->second;
    }
  }

  auto lower_at = [&](ptrdiff_t i) -> uint64_t {
    if (i < 0) return kBos + static_cast<uint64_t>(-i);
    if (i >= static_cast<ptrdiff_t>(n)) return kEos + static_cast<uint64_t>(i);
    return attrs[static_cast<size_t>(i)].lower;
  };
  auto shape_at = [&](ptrdiff_t i) -> uint64_t {
    if (i < 0) return kBos + static_cast<uint64_t>(-i);
    if (i >= static_cast<ptrdiff_t>(n)) return kEos + static_cast<uint64_t>(i);
    return attrs[static_cast<size_t>(i)].shape;
  };
  auto case_at = [&](ptrdiff_t i) -> uint64_t {
    if (i < 0 || i >= static_cast<ptrdiff_t>(n)) return 99;
    return attrs[static_cast<size_t>(i)].wcase;
  };
  auto suffix3_at = [&](ptrdiff_t i) -> uint64_t {
    if (i < 0 || i >= static_cast<ptrdiff_t>(n)) return 99;
    return attrs[static_cast<size_t>(i)].suffix[2];
  };
  out.keys.reserve(n * 48);
  out.offsets.reserve(n + 1);
  for (size_t i = 0; i < n; ++i) {
    const auto si = static_cast<ptrdiff_t>(i);
    const TokenAttrs& a = attrs[i];
    out.keys.push_back(f1(kBias, 0));
    out.keys.push_back(f1(kWord, a.word));
    out.keys.push_back(f1(kLower, a.lower));
    out.keys.push_back(f1(kShape, a.shape));
    out.keys.push_back(f1(kCase, a.wcase));
    out.keys.push_back(f2(kCaseFirst, a.wcase, i == 0 ? 1 : 0));
    out.keys.push_back(f1(kLength, a.length));
    out.keys.push_back(f1(kFlags, a.flags));
    for (uint64_t k = 0; k < a.prefix.size(); ++k) {
      if (a.prefix[k] != 0) out.keys.push_back(f2(kPrefix, k, a.prefix[k]));
      if (a.suffix[k] != 0) out.keys.push_back(f2(kSuffix, k, a.suffix[k]));
    }
    out.keys.push_back(f1(kLowerM1, lower_at(si - 1)));
    out.keys.push_back(f1(kLowerP1, lower_at(si + 1)));
    out.keys.push_back(f1(kLowerM2, lower_at(si - 2)));
    out.keys.push_back(f1(kLowerP2, lower_at(si + 2)));
    out.keys.push_back(f2(kBigramM1, lower_at(si - 1), a.lower));
    out.keys.push_back(f2(kBigramP1, a.lower, lower_at(si + 1)));
    out.keys.push_back(f2(kLowerM1M2, lower_at(si - 2), lower_at(si - 1)));
    out.keys.push_back(f2(kLowerP1P2, lower_at(si + 1), lower_at(si + 2)));
    out.keys.push_back(f1(kLowerM3, lower_at(si - 3)));
    out.keys.push_back(f1(kLowerP3, lower_at(si + 3)));
    out.keys.push_back(f2(kLowerM1P1, lower_at(si - 1), lower_at(si + 1)));
    for (ptrdiff_t d = 3; d <= 5; ++d) {
      if (si - d >= 0) out.keys.push_back(f1(kWindowBag, attrs[static_cast<size_t>(si - d)].lower));
      if (si + d < static_cast<ptrdiff_t>(n)) {
        out.keys.push_back(f1(kWindowBag, attrs[static_cast<size_t>(si + d)].lower));
      }
    }
    out.keys.push_back(f1(kShapeM1, shape_at(si - 1)));
    out.keys.push_back(f1(kShapeP1, shape_at(si + 1)));
    out.keys.push_back(f1(kShapeM2, shape_at(si - 2)));
    out.keys.push_back(f1(kShapeP2, shape_at(si + 2)));
    out.keys.push_back(f3(kShapeTri, shape_at(si - 1), a.shape, shape_at(si + 1)));
    out.keys.push_back(f3(kCaseTri, case_at(si - 1), a.wcase, case_at(si + 1)));
    out.keys.push_back(f2(kLowerM1Case, lower_at(si - 1), a.wcase));
    out.keys.push_back(f2(kCaseP1Lower, a.wcase, lower_at(si + 1)));
    out.keys.push_back(f1(kSuffix3M1, suffix3_at(si - 1)));
    out.keys.push_back(f1(kSuffix3P1, suffix3_at(si + 1)));
    if (res.gazetteer != nullptr) {
      for (uint32_t m = a.gazetteer, bit = 0; m != 0; m >>= 1, ++bit) {
        if (m & 1u) {
          out.keys.push_back(
              f2(kGazetteer, bit, a.wcase == static_cast<uint32_t>(WordCase::kLower) ? 1 : 0));
        }
      }
      if (i > 0 && attrs[i - 1].gazetteer != 0) {
        out.keys.push_back(f1(kGazetteerM1, attrs[i - 1].gazetteer));
      }
      if (i + 1 < n && attrs[i + 1].gazetteer != 0) {
        out.keys.push_back(f1(kGazetteerP1, attrs[i + 1].gazetteer));
      }
    }
    if (res.word_profiles != nullptr) {
      const uint32_t casing = casing_bucket(a.profile);
      out.keys.push_back(f2(kProfileCase, casing, a.wcase));
      out.keys.push_back(f3(kProfileFrequency, casing, frequency_bucket(a.profile), a.wcase));
      out.keys.push_back(f2(kProfileM1, i > 0 ? casing_bucket(attrs[i - 1].profile) : 99, casing));
      out.keys.push_back(
          f2(kProfileP1, i + 1 < n ? casing_bucket(attrs[i + 1].profile) : 99, casing));
    }
    out.offsets.push_back(static_cast<uint32_t>(out.keys.size()));
  }
}

namespace {

// Index of the most frequent type in counts[0..n) (0 = O), the lowest index on ties.
size_t majority(const uint32_t* counts, size_t n) {
  size_t best = 0;
  for (size_t t = 1; t < n; ++t) {
    if (counts[t] > counts[best]) best = t;
  }
  return best;
}

}  // namespace

void extract_stacked_features(const LabelSet& labels,
                              std::span<const std::vector<uint64_t>> word_keys,
                              std::span<const std::vector<int>> paths,
                              std::vector<SentenceFeatures>& out) {
  constexpr size_t kTypes = EntityGazetteer::kMaxTypes + 1;  // 0 = O, t + 1 = type t
  const size_t L = labels.size();
  // type of each label: 0 for O, (label + 1) / 2 for B-/I- pairs in LabelSet order
  auto type_of = [](int label) { return static_cast<size_t>((label + 1) / 2); };
  auto label_at = [&](const std::vector<int>& path, ptrdiff_t i) -> uint64_t {
    if (i < 0) return L + 1;
    if (i >= static_cast<ptrdiff_t>(path.size())) return L + 2;
    return static_cast<uint64_t>(path[static_cast<size_t>(i)]);
  };

  // Document statistics: per word, how often each type; per entity string, how often each type.
  std::unordered_map<uint64_t, std::array<uint32_t, kTypes>> word_types;
  std::unordered_map<uint64_t, std::array<uint32_t, kTypes>> entity_types;
  // entity key of each token inside a first-stage entity (0 otherwise), per sentence
  std::vector<std::vector<uint64_t>> entity_of(paths.size());
  for (size_t s = 0; s < paths.size(); ++s) {
    const std::vector<int>& path = paths[s];
    const std::vector<uint64_t>& keys = word_keys[s];
    entity_of[s].assign(path.size(), 0);
    for (size_t i = 0; i < path.size(); ++i) ++word_types[keys[i]][type_of(path[i])];
    for (size_t i = 0; i < path.size();) {
      if (path[i] == 0) {
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < path.size() && path[j] != 0 && !labels.is_begin(static_cast<size_t>(path[j]))) ++j;
      const uint64_t key =
          EntityGazetteer::sequence_key(std::span<const uint64_t>(keys).subspan(i, j - i));
      ++entity_types[key][type_of(path[i])];
      for (size_t k = i; k < j; ++k) entity_of[s][k] = key;
      i = j;
    }
  }

  out.resize(paths.size());
  for (size_t s = 0; s < paths.size(); ++s) {
    const std::vector<int>& path = paths[s];
    const std::vector<uint64_t>& keys = word_keys[s];
    SentenceFeatures& f = out[s];
    f.keys.clear();
    f.offsets.assign(1, 0);
    f.word_keys = keys;
    for (size_t i = 0; i < path.size(); ++i) {
      const auto si = static_cast<ptrdiff_t>(i);
      const uint64_t y = label_at(path, si);
      f.keys.push_back(f1(kStackLabel, y));
      f.keys.push_back(f1(kStackLabelM1, label_at(path, si - 1)));
      f.keys.push_back(f1(kStackLabelP1, label_at(path, si + 1)));
      f.keys.push_back(f1(kStackLabelM2, label_at(path, si - 2)));
      f.keys.push_back(f1(kStackLabelP2, label_at(path, si + 2)));
      f.keys.push_back(f3(kStackLabelTri, label_at(path, si - 1), y, label_at(path, si + 1)));

      // the same word elsewhere in the document (this occurrence left out)
      std::array<uint32_t, kTypes> w = word_types[keys[i]];
      --w[type_of(path[i])];
      uint32_t elsewhere = 0, as_entity = 0;
      for (size_t t = 0; t < kTypes; ++t) {
        elsewhere += w[t];
        if (t > 0) as_entity += w[t];
      }
      if (elsewhere > 0) {
        f.keys.push_back(f1(kStackWordMajority, majority(w.data(), kTypes)));
      }
      if (as_entity > 0) {
        const size_t m = majority(w.data() + 1, kTypes - 1) + 1;
        f.keys.push_back(f2(kStackWordSeenAs, m, y));
      }
      // the same entity string elsewhere in the document
      if (entity_of[s][i] != 0) {
        std::array<uint32_t, kTypes> e = entity_types[entity_of[s][i]];
        --e[type_of(path[i])];
        uint32_t total = 0;
        for (uint32_t c : e) total += c;
        if (total > 0) f.keys.push_back(f2(kStackEntityMajority, majority(e.data(), kTypes), y));
      }
      f.offsets.push_back(static_cast<uint32_t>(f.keys.size()));
    }
  }
}

}  // namespace aimara::nlp
