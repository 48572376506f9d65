#include "nlp/model_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/sha256.h"

namespace aimara::nlp {

namespace {

constexpr std::string_view kMagic{"AIMNER\n\x1a", 8};
constexpr size_t kDigestChars = 64;

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { raw(&v, 2); }
  void i16(int16_t v) { raw(&v, 2); }
  void u32(uint32_t v) { raw(&v, 4); }
  void f32(float v) { raw(&v, 4); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      u8(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    u8(static_cast<uint8_t>(v));
  }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void bytes(std::string_view s) { out_.append(s); }
  std::string& out() { return out_; }

 private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  uint8_t u8() {
    uint8_t v = 0;
    raw(&v, 1);
    return v;
  }
  uint16_t u16() {
    uint16_t v = 0;
    raw(&v, 2);
    return v;
  }
  int16_t i16() {
    int16_t v = 0;
    raw(&v, 2);
    return v;
  }
  uint32_t u32() {
    uint32_t v = 0;
    raw(&v, 4);
    return v;
  }
  float f32() {
    float v = 0;
    raw(&v, 4);
    return v;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const uint8_t b = u8();
      if (!ok_) return 0;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }
  std::string str() {
    const uint32_t n = u32();
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of items each at least `min_bytes` long must fit in what is left.
  bool plausible(uint64_t count, size_t min_bytes) const {
    return ok_ && count <= (in_.size() - pos_) / std::max<size_t>(min_bytes, 1);
  }
  size_t left() const { return in_.size() - pos_; }

 private:
  void raw(void* p, size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      std::memset(p, 0, n);
      return;
    }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

std::unexpected<Error> invalid(std::string_view what) {
  return make_error(ErrorCode::kModelInvalid, fmt::format("not a valid tagger model: {}", what));
}

void encode_stage(const ModelStage& st, size_t L, const ModelEncodeOptions& options, Writer& w) {
  for (size_t i = 0; i < L * L; ++i) w.f32(st.transitions[i]);
  for (size_t i = 0; i < L; ++i) w.f32(st.start[i]);
  float max_abs = 0;
  st.weights.for_each([&](uint64_t, const float* row) {
    for (size_t l = 0; l < L; ++l) max_abs = std::max(max_abs, std::fabs(row[l]));
  });
  const float scale = max_abs > 0 ? max_abs / 32767.0f : 1.0f;
  const float keep_above = options.prune_below * max_abs;
  struct Row {
    uint64_t key;
    const float* w;
  };
  std::vector<Row> rows;
  rows.reserve(st.weights.size());
  st.weights.for_each([&](uint64_t key, const float* row) {
    float best = 0;
    for (size_t l = 0; l < L; ++l) best = std::max(best, std::fabs(row[l]));
    if (best > 0 && best >= keep_above && std::lround(best / scale) != 0) rows.push_back({key, row});
  });
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.key < b.key; });
  w.f32(scale);
  w.varint(rows.size());
  uint64_t prev = 0;
  for (const Row& r : rows) {
    w.varint(r.key - prev);
    prev = r.key;
    uint16_t mask = 0;
    int16_t q[16] = {};
    for (size_t l = 0; l < L; ++l) {
      const long v = std::lround(r.w[l] / scale);
      q[l] = static_cast<int16_t>(std::clamp<long>(v, -32767, 32767));
      if (q[l] != 0) mask = static_cast<uint16_t>(mask | (1u << l));
    }
    w.u16(mask);
    for (size_t l = 0; l < L; ++l) {
      if (mask & (1u << l)) w.i16(q[l]);
    }
  }
}

bool decode_stage(Reader& in, uint32_t L, ModelStage& st) {
  st.transitions.resize(static_cast<size_t>(L) * L);
  for (float& t : st.transitions) t = in.f32();
  st.start.resize(L);
  for (float& s : st.start) s = in.f32();
  const float scale = in.f32();
  const uint64_t rows = in.varint();
  if (!in.plausible(rows, 3)) return false;
  st.scale = scale;
  st.weights = WeightTable(L);
  st.weights.reserve(rows);
  uint64_t key = 0;
  for (uint64_t i = 0; i < rows && in.ok(); ++i) {
    key += in.varint();
    const uint16_t mask = in.u16();
    float* row = st.weights.insert(key);
    for (uint32_t l = 0; l < L; ++l) {
      if (mask & (1u << l)) row[l] = static_cast<float>(in.i16()) * scale;
    }
  }
  return in.ok();
}

}  // namespace

std::string encode_model(const ModelData& m, const ModelEncodeOptions& options) {
  const size_t L = m.labels.size();
  Writer w;
  w.bytes(kMagic);
  w.u32(kModelFormatVersion);
  w.str(m.language);
  w.str(m.description);
  w.u32(m.feature_set);
  w.u32(static_cast<uint32_t>(L));
  for (const std::string& l : m.labels.names()) w.str(l);
  w.f32(m.temperature);
  w.u32(static_cast<uint32_t>(m.stages.size()));
  for (const ModelStage& stage : m.stages) encode_stage(stage, L, options, w);

  const auto gaz = m.gazetteer.entries();
  w.varint(gaz.size());
  uint64_t prev = 0;
  for (const auto& [key, types] : gaz) {
    w.varint(key - prev);
    prev = key;
    w.u8(types);
  }

  std::vector<std::pair<uint64_t, uint32_t>> profiles(m.word_profiles.begin(),
                                                      m.word_profiles.end());
  std::sort(profiles.begin(), profiles.end());
  w.varint(profiles.size());
  prev = 0;
  for (const auto& [key, profile] : profiles) {
    w.varint(key - prev);
    prev = key;
    w.varint(profile);
  }

  const std::string digest = sha256_hex(w.out());
  w.bytes(digest);
  return std::move(w.out());
}

Result<std::unique_ptr<ModelData>> decode_model(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 4 + kDigestChars || !bytes.starts_with(kMagic)) {
    return invalid("the file does not start with the AIMNER magic");
  }
  const std::string_view payload = bytes.substr(0, bytes.size() - kDigestChars);
  Reader in(payload.substr(kMagic.size()));
  const uint32_t version = in.u32();
  if (version != kModelFormatVersion) {
    return make_error(ErrorCode::kModelInvalid,
                      fmt::format("tagger model format version {} is not supported (this build "
                                  "reads version {}); retrain it with 'aimara ner train'",
                                  version, kModelFormatVersion));
  }
  if (sha256_hex(payload) != bytes.substr(bytes.size() - kDigestChars)) {
    return invalid("checksum mismatch (the file is truncated or corrupt)");
  }
  auto m = std::make_unique<ModelData>();
  m->language = in.str();
  m->description = in.str();
  m->feature_set = in.u32();
  if (in.ok() && m->feature_set != kFeatureSetVersion) {
    return make_error(ErrorCode::kModelInvalid,
                      fmt::format("tagger model uses feature set {} but this build computes set "
                                  "{}; retrain it with 'aimara ner train'",
                                  m->feature_set, kFeatureSetVersion));
  }
  const uint32_t L = in.u32();
  if (!in.ok() || L < 1 || L > 16) return invalid("bad label count");
  std::vector<std::string> labels;
  for (uint32_t i = 0; i < L; ++i) labels.push_back(in.str());
  if (!in.ok() || labels[0] != "O") return invalid("bad label set");
  for (size_t i = 1; i < labels.size(); ++i) {
    if (labels[i].size() < 3 || (labels[i][0] != 'B' && labels[i][0] != 'I') ||
        labels[i][1] != '-') {
      return invalid(fmt::format("bad label '{}'", labels[i]));
    }
  }
  m->labels = LabelSet(std::move(labels));
  m->temperature = in.f32();
  const uint32_t stages = in.u32();
  if (!in.ok() || stages < 1 || stages > 2) return invalid("bad stage count");
  m->stages.resize(stages);
  for (ModelStage& st : m->stages) {
    if (!decode_stage(in, L, st)) return invalid("bad weights");
  }

  const uint64_t gaz = in.varint();
  if (!in.plausible(gaz, 2)) return invalid("bad gazetteer size");
  uint64_t key = 0;
  for (uint64_t i = 0; i < gaz && in.ok(); ++i) {
    key += in.varint();
    m->gazetteer.insert_entry(key, in.u8());
  }

  const uint64_t profiles = in.varint();
  if (!in.plausible(profiles, 2)) return invalid("bad word profile count");
  m->word_profiles.reserve(profiles);
  key = 0;
  for (uint64_t i = 0; i < profiles && in.ok(); ++i) {
    key += in.varint();
    m->word_profiles.emplace(key, static_cast<uint32_t>(in.varint()));
  }
  if (!in.ok()) return invalid("truncated");
  if (in.left() != 0) return invalid("trailing bytes");
  return m;
}

}  // namespace aimara::nlp
