#include "nlp/model_data.h"

#include <algorithm>

namespace aimara::nlp {

void WeightTable::reserve(size_t rows) {
  rows_.reserve(rows * num_labels_);
  size_t cap = 16;
  while (cap < rows * 2) cap <<= 1;
  if (cap <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  for (const Slot& s : old) {
    if (s.key == 0) continue;
    size_t i = static_cast<size_t>(s.key) & mask_;
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void WeightTable::grow() { reserve(std::max<size_t>(count_ * 2, 1024)); }

float* WeightTable::insert(uint64_t key) {
  if (key == 0) key = 1;
  if ((count_ + 1) * 2 > slots_.size()) grow();
  size_t i = static_cast<size_t>(key) & mask_;
  while (true) {
    Slot& s = slots_[i];
    if (s.key == key) return &rows_[static_cast<size_t>(s.row) * num_labels_];
    if (s.key == 0) {
      s.key = key;
      s.row = static_cast<uint32_t>(count_++);
      rows_.resize(rows_.size() + num_labels_, 0.0f);
      return &rows_[static_cast<size_t>(s.row) * num_labels_];
    }
    i = (i + 1) & mask_;
  }
}

}  // namespace aimara::nlp
