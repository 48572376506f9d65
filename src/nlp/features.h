// The tagger's observation features: for each word of a sentence, a list of 64-bit feature keys
// (feature hashing: a template id combined with the hashes of the values it looks at), so no
// feature string is ever built. Features depend on the words only, never on tags; the label
// dependence lives in the model's weights and transition scores.
//
// Stage 1 templates (kFeatureSetVersion names this exact set; a model file records it): the word, its
// lowercased form, shape, casing class, length, prefixes and suffixes of 1-4 characters,
// digit/hyphen/dot flags, first-in-sentence, the lowercased words and shapes at -2..+2, word
// bigrams, shape trigrams, neighbour casing, a bag of words at distance 3-5, gazetteer matches
// (entity_gazetteer.h) and how the word and its neighbours are usually cased (word_profiles.h),
// when the model has them.
//
// Stage 2 (stacked) templates look at a first tagging of a whole document (a few dozen
// sentences): the first-stage labels at -2..+2, and non-local evidence: which types the same word
// and the same entity string were given elsewhere in the document ("Castaño" alone is a PER when
// "Javier Castaño" is one three sentences earlier).
//
// Thread-safety: pure functions over caller-owned buffers; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nlp/sequence_decoder.h"

namespace aimara::nlp {

class EntityGazetteer;

// Bumped whenever a template changes: a model trained with another set is rejected on load.
inline constexpr uint32_t kFeatureSetVersion = 2;

inline uint64_t hash_mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline uint64_t hash_combine(uint64_t a, uint64_t b) {
  return hash_mix(a * 0x9e3779b97f4a7c15ULL + b + 0x632be59bd9b4e019ULL);
}

// FNV-1a over the bytes, then mixed.
uint64_t hash_bytes(std::string_view s);

// The key of a word for gazetteers and word profiles: the hash of its lowercased form with digits
// replaced by 0 ("1.500" and "2.750" share a key).
uint64_t word_key(std::string_view word);

// What a model adds to the templates beyond the words themselves.
struct FeatureResources {
  const EntityGazetteer* gazetteer = nullptr;
  // word_key -> casing/frequency profile (word_profiles.h); optional
  const std::unordered_map<uint64_t, uint32_t>* word_profiles = nullptr;
};

// Features of one sentence: token i's keys are keys[offsets[i] .. offsets[i+1]).
struct SentenceFeatures {
  std::vector<uint64_t> keys;
  std::vector<uint32_t> offsets;
  std::vector<uint64_t> word_keys;  // word_key() of each word (filled by extract_features)
};

// Fills `out` (its buffers are reused) with the features of every word of the sentence.
void extract_features(std::span<const std::string_view> words, const FeatureResources& resources,
                      SentenceFeatures& out);

// Stage-2 features of one document. word_keys[s] and paths[s] are sentence s's word keys and
// first-stage label indices (into `labels`); out[s] receives sentence s's features.
void extract_stacked_features(const LabelSet& labels,
                              std::span<const std::vector<uint64_t>> word_keys,
                              std::span<const std::vector<int>> paths,
                              std::vector<SentenceFeatures>& out);

}  // namespace aimara::nlp
