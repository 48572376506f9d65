#include "nlp/entity_gazetteer.h"

#include <algorithm>

#include "nlp/features.h"

namespace aimara::nlp {

uint64_t EntityGazetteer::sequence_key(std::span<const uint64_t> word_keys) {
  uint64_t h = 0x6761'7a65'7474'6565ULL;  // "gazettee"
  for (uint64_t k : word_keys) h = hash_combine(h, k);
  return h;
}

void EntityGazetteer::add(std::span<const uint64_t> word_keys, unsigned type_index) {
  if (word_keys.empty() || word_keys.size() > kMaxWords || type_index >= kMaxTypes) return;
  uint64_t h = 0x6761'7a65'7474'6565ULL;
  for (size_t i = 0; i + 1 < word_keys.size(); ++i) {
    h = hash_combine(h, word_keys[i]);
    entries_[h] |= kContinues;
  }
  entries_[sequence_key(word_keys)] |= static_cast<uint8_t>(1u << type_index);
}

void EntityGazetteer::mark(std::span<const uint64_t> word_keys,
                           std::vector<uint32_t>& marks) const {
  marks.assign(word_keys.size(), 0);
  if (entries_.empty()) return;
  for (size_t i = 0; i < word_keys.size(); ++i) {
    uint64_t h = 0x6761'7a65'7474'6565ULL;
    size_t best_len = 0;
    uint8_t best_mask = 0;
    const size_t max_len = std::min(kMaxWords, word_keys.size() - i);
    for (size_t len = 1; len <= max_len; ++len) {
      h = hash_combine(h, word_keys[i + len - 1]);
      auto it = entries_.find(h);
      if (it == entries_.end()) break;
      if ((it->second & ~kContinues) != 0) {
        best_len = len;
        best_mask = it->second & static_cast<uint8_t>(~kContinues);
      }
      if ((it->second & kContinues) == 0) break;
    }
    if (best_len == 0) continue;
    for (unsigned t = 0; t < kMaxTypes; ++t) {
      if ((best_mask & (1u << t)) == 0) continue;
      marks[i] |= 1u << (2 * t);
      for (size_t k = 1; k < best_len; ++k) marks[i + k] |= 1u << (2 * t + 1);
    }
  }
}

std::vector<std::pair<uint64_t, uint8_t>> EntityGazetteer::entries() const {
  std::vector<std::pair<uint64_t, uint8_t>> out(entries_.begin(), entries_.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace aimara::nlp
