// The tagger's model file format (".bin"), version 1. Little-endian:
//
//   magic "AIMNER\n\x1a" (8 bytes), u32 format version
//   str language, str description, u32 feature set version (features.h)
//   u32 L, L x str labels ("O" first), f32 temperature, u32 stages (1 or 2), per stage:
//     L*L f32 transitions, L f32 start scores, f32 weight scale, varint rows, per row in key
//     order: varint key delta, u16 label mask, one i16 per set bit (weight = i16 * scale)
//   varint gazetteer entries; per entry in key order: varint key delta, u8 type mask
//   varint word profiles; per entry in key order: varint key delta, varint profile
//   64 hex chars: SHA-256 of everything before them
//   (str = u32 length + bytes)
//
// Weights are quantised to 16 bits against the largest one of their stage, and rows whose largest
// weight is below `prune_below` (relative to that largest weight) are dropped when saving.
//
// Thread-safety: pure functions. Ownership: the caller owns the returned data.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "nlp/model_data.h"

namespace aimara::nlp {

inline constexpr uint32_t kModelFormatVersion = 1;

struct ModelEncodeOptions {
  float prune_below = 0.0f;  // drop rows whose max |w| < prune_below * max |w| of the model
};

std::string encode_model(const ModelData& model, const ModelEncodeOptions& options = {});

// Errors: kModelInvalid (bad magic, unknown version or feature set, truncated, corrupt).
Result<std::unique_ptr<ModelData>> decode_model(std::string_view bytes);

}  // namespace aimara::nlp
