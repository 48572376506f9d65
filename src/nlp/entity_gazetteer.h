// A gazetteer of entity names learned from annotated training data: word sequences (lowercased)
// seen as entities, with the types they were seen as. The tagger uses its matches as features
// ("these words were a LOC in the training data"); it is part of a model file.
//
// Thread-safety: building (add) is single-threaded; a built gazetteer is immutable and mark() may
// be called from many threads at once. Ownership: owns its entries.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace aimara::nlp {

class EntityGazetteer {
 public:
  static constexpr size_t kMaxWords = 6;  // longer names are not stored
  static constexpr size_t kMaxTypes = 7;

  // Adds a name given by the hashes of its lowercased words (features.h word_key) with type
  // `type_index` (< kMaxTypes).
  void add(std::span<const uint64_t> word_keys, unsigned type_index);

  // For each word (by word_key) of a sentence, a bit mask: bit 2*t set when a longest match of
  // type t begins at the word, bit 2*t+1 when one covers it after its first word.
  void mark(std::span<const uint64_t> word_keys, std::vector<uint32_t>& marks) const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // Serialisation: (sequence key, mask) pairs in a stable (sorted) order. The mask holds the
  // type bits and kContinues when a longer name starts with this sequence (so that matching
  // stops as soon as no stored name can continue).
  static constexpr uint8_t kContinues = 0x80;
  std::vector<std::pair<uint64_t, uint8_t>> entries() const;
  void insert_entry(uint64_t key, uint8_t mask) { entries_[key] |= mask; }

  // The key of a word sequence (what entries() holds).
  static uint64_t sequence_key(std::span<const uint64_t> word_keys);

 private:
  std::unordered_map<uint64_t, uint8_t> entries_;  // sequence key -> type bits | kContinues
};

}  // namespace aimara::nlp
