#include "nlp/canonical.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <tuple>

namespace aimara::nlp {

namespace {

void append_utf8(std::string& out, UChar32 c) {
  char buf[U8_MAX_LENGTH];
  int32_t n = 0;
  U8_APPEND_UNSAFE(buf, n, c);
  out.append(buf, static_cast<size_t>(n));
}

// The folded form of one non-ASCII code point (may be empty: a lone combining mark).
std::string fold_code_point(UChar32 c, FoldMode mode) {
  icu::UnicodeString s(c);
  if (mode == FoldMode::kCaseAndAccents) s.foldCase();
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  icu::UnicodeString decomposed;
  if (U_SUCCESS(status)) decomposed = nfd->normalize(s, status);
  if (U_FAILURE(status)) decomposed = s;
  std::string out;
  for (int32_t i = 0; i < decomposed.length();) {
    UChar32 x = decomposed.char32At(i);
    i += U16_LENGTH(x);
    if (u_charType(x) == U_NON_SPACING_MARK) continue;
    append_utf8(out, x);
  }
  return out;
}

// Folding a code point goes through ICU objects; transcripts repeat the same few accented letters,
// so each thread remembers what it already folded.
const std::string& cached_fold(UChar32 c, FoldMode mode) {
  thread_local std::unordered_map<UChar32, std::string> cache[2];
  auto& m = cache[mode == FoldMode::kCaseAndAccents ? 0 : 1];
  auto it = m.find(c);
  if (it != m.end()) return it->second;
  if (m.size() > 65536) m.clear();
  return m.emplace(c, fold_code_point(c, mode)).first->second;
}

bool is_space_code_point(UChar32 c) {
  if (c < 0x80) return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  return u_isUWhiteSpace(c) != 0;
}

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= key.size()) {
    size_t sp = key.find(' ', start);
    if (sp == std::string::npos) sp = key.size();
    if (sp > start) words.push_back(key.substr(start, sp - start));
    start = sp + 1;
  }
  return words;
}

template <typename Map>
std::string most_frequent(const Map& counts) {
  std::string best;
  int64_t best_count = -1;
  for (const auto& [name, n] : counts) {
    if (n > best_count) {
      best = name;
      best_count = n;
    }
  }
  return best;
}

}  // namespace

bool is_word_code_point(int32_t c) {
  if (c < 0) return false;
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  return u_isalnum(c) != 0;
}

FoldedText fold_text(std::string_view utf8, FoldMode mode) {
  FoldedText out;
  out.text.reserve(utf8.size());
  out.source_begin.reserve(utf8.size());
  out.source_end.reserve(utf8.size());
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  const auto length = static_cast<int32_t>(utf8.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t begin = i;
    UChar32 c = 0;
    U8_NEXT(s, i, length, c);
    const size_t before = out.text.size();
    if (c < 0) {
      out.text.push_back(' ');
    } else if (c < 0x80) {
      char ch = static_cast<char>(c);
      if (mode == FoldMode::kCaseAndAccents && ch >= 'A' && ch <= 'Z')
        ch = static_cast<char>(ch - 'A' + 'a');
      out.text.push_back(ch);
    } else {
      out.text += cached_fold(c, mode);
    }
    for (size_t k = before; k < out.text.size(); ++k) {
      out.source_begin.push_back(static_cast<size_t>(begin));
      out.source_end.push_back(static_cast<size_t>(i));
    }
  }
  return out;
}

std::vector<std::pair<size_t, size_t>> word_spans(std::string_view utf8) {
  std::vector<std::pair<size_t, size_t>> words;
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  const auto length = static_cast<int32_t>(utf8.size());
  int32_t i = 0;
  bool in_word = false;
  size_t word_begin = 0;
  while (i < length) {
    const int32_t begin = i;
    UChar32 c = 0;
    U8_NEXT(s, i, length, c);
    // A combining mark continues the word it follows (text that is already decomposed).
    const bool word =
        is_word_code_point(c) || (in_word && c >= 0 && u_charType(c) == U_NON_SPACING_MARK);
    if (word && !in_word) {
      in_word = true;
      word_begin = static_cast<size_t>(begin);
    } else if (!word && in_word) {
      in_word = false;
      words.emplace_back(word_begin, static_cast<size_t>(begin));
    }
  }
  if (in_word) words.emplace_back(word_begin, utf8.size());
  return words;
}

std::string fold_key(std::string_view utf8, FoldMode mode) {
  FoldedText folded = fold_text(utf8, mode);
  std::string key;
  for (auto [b, e] : word_spans(folded.text)) {
    if (!key.empty()) key.push_back(' ');
    key.append(folded.text, b, e - b);
  }
  return key;
}

bool joins_words(std::string_view gap) {
  const auto* s = reinterpret_cast<const uint8_t*>(gap.data());
  const auto length = static_cast<int32_t>(gap.size());
  int32_t i = 0;
  int punctuation = 0;
  while (i < length) {
    UChar32 c = 0;
    U8_NEXT(s, i, length, c);
    if (c == '-' || c == '\'' || c == 0x2019 || c == '.') {
      if (++punctuation > 1) return false;
    } else if (c < 0 || !is_space_code_point(c)) {
      return false;
    }
  }
  return true;
}

bool is_person_type(std::string_view type) {
  return type == "PER" || type == "PERSON" || type == "PERSONA" || type == "POLITICAL_TITLE";
}

std::string_view source_name(MentionSource source) {
  switch (source) {
    case MentionSource::kWatchlist:
      return "watchlist";
    case MentionSource::kPattern:
      return "pattern";
    case MentionSource::kModel:
      return "model";
  }
  return "model";
}

// --- EntityIndex ---------------------------------------------------------------------------------

std::string EntityIndex::key_of(const MentionForm& m) const {
  if (!m.preset_canonical.empty()) return fold_key(m.preset_canonical);
  return fold_key(m.base.empty() ? m.text : m.base);
}

EntityIndex::Group& EntityIndex::touch(const std::string& key, const MentionForm& m) {
  auto [it, inserted] = groups_.try_emplace(key);
  Group& g = it->second;
  if (inserted) {
    g.key = key;
    g.order = next_order_++;
    g.words = split_key(key).size();
    g.first_ms = m.start_ms;
    g.last_ms = m.start_ms;
  }
  const bool was_person = g.person;
  g.person = g.person || is_person_type(m.type);
  if (g.person && !was_person && g.words > 1) {
    std::vector<std::string> words = split_key(key);
    for (size_t k = 1; k < words.size(); ++k) {
      std::string suffix;
      for (size_t w = words.size() - k; w < words.size(); ++w) {
        if (!suffix.empty()) suffix.push_back(' ');
        suffix += words[w];
      }
      suffixes_[suffix].push_back(key);
    }
  }
  if (g.preset.empty() && !m.preset_canonical.empty()) g.preset = std::string(m.preset_canonical);
  std::string base(m.base.empty() ? m.text : m.base);
  if (g.base_first.emplace(base, next_form_order_).second) ++next_form_order_;
  ++g.base_forms[base];
  ++g.surfaces[std::string(m.text)];
  ++g.types[{m.source, std::string(m.type)}];
  ++g.count;
  g.first_ms = std::min(g.first_ms, m.start_ms);
  g.last_ms = std::max(g.last_ms, m.start_ms);
  ++mentions_;
  return g;
}

std::string EntityIndex::root_of(const std::string& key, bool person) const {
  std::string current = key;
  // Each step moves to a name with more words, so this ends; the bound only guards odd input.
  for (int depth = 0; person && depth < 16; ++depth) {
    auto self = groups_.find(current);
    if (self != groups_.end() && !self->second.preset.empty()) break;
    auto it = suffixes_.find(current);
    if (it == suffixes_.end()) break;
    const Group* best = nullptr;
    for (const std::string& candidate : it->second) {
      const Group& g = groups_.at(candidate);
      if (!g.person) continue;
      if (best == nullptr || std::make_tuple(g.count, g.words, best->order) >
                                 std::make_tuple(best->count, best->words, g.order)) {
        best = &g;
      }
    }
    if (best == nullptr) break;
    current = best->key;
  }
  return current;
}

std::string EntityIndex::display_name(const Group& g) const {
  if (!g.preset.empty()) return g.preset;
  std::string best;
  int64_t best_count = -1;
  size_t best_order = 0;
  for (const auto& [form, n] : g.base_forms) {
    size_t order = g.base_first.at(form);
    if (n > best_count || (n == best_count && order < best_order)) {
      best = form;
      best_count = n;
      best_order = order;
    }
  }
  return best;
}

std::vector<std::string> EntityIndex::add_batch(const std::vector<MentionForm>& mentions) {
  std::vector<std::string> keys(mentions.size());
  for (size_t i = 0; i < mentions.size(); ++i) {
    keys[i] = key_of(mentions[i]);
    if (!keys[i].empty() && mentions[i].counted) touch(keys[i], mentions[i]);
  }
  std::vector<std::string> canonical(mentions.size());
  for (size_t i = 0; i < mentions.size(); ++i) {
    const MentionForm& m = mentions[i];
    if (keys[i].empty()) {
      canonical[i] = std::string(m.text);
      continue;
    }
    auto self = groups_.find(keys[i]);
    const bool person = self != groups_.end() ? self->second.person : is_person_type(m.type);
    auto root = groups_.find(root_of(keys[i], person));
    if (root != groups_.end()) {
      canonical[i] = display_name(root->second);
    } else if (!m.preset_canonical.empty()) {
      canonical[i] = std::string(m.preset_canonical);
    } else {
      canonical[i] = std::string(m.base.empty() ? m.text : m.base);
    }
  }
  return canonical;
}

std::vector<Entity> EntityIndex::entities() const {
  struct Merged {
    std::map<std::string, int64_t> surfaces;
    std::map<std::pair<MentionSource, std::string>, int64_t> types;
    int64_t count = 0;
    int64_t first_ms = 0;
    int64_t last_ms = 0;
  };
  std::map<std::string, Merged> merged;  // root key -> totals
  for (const auto& [key, g] : groups_) {
    auto [it, inserted] = merged.try_emplace(root_of(key, g.person));
    Merged& m = it->second;
    for (const auto& [s, n] : g.surfaces) m.surfaces[s] += n;
    for (const auto& [t, n] : g.types) m.types[t] += n;
    m.first_ms = inserted ? g.first_ms : std::min(m.first_ms, g.first_ms);
    m.last_ms = inserted ? g.last_ms : std::max(m.last_ms, g.last_ms);
    m.count += g.count;
  }

  std::vector<Entity> out;
  out.reserve(merged.size());
  for (const auto& [root, m] : merged) {
    Entity e;
    e.canonical = display_name(groups_.at(root));
    for (MentionSource source :
         {MentionSource::kWatchlist, MentionSource::kModel, MentionSource::kPattern}) {
      std::map<std::string, int64_t> by_type;
      for (const auto& [t, n] : m.types) {
        if (t.first == source) by_type[t.second] += n;
      }
      if (!by_type.empty() && e.type.empty()) e.type = most_frequent(by_type);
      int64_t total = 0;
      for (const auto& [t, n] : by_type) total += n;
      if (total > 0) e.count_by_source[std::string(source_name(source))] = total;
    }
    std::vector<std::pair<std::string, int64_t>> aliases;
    for (const auto& [s, n] : m.surfaces) {
      if (s != e.canonical) aliases.emplace_back(s, n);
    }
    std::stable_sort(aliases.begin(), aliases.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (auto& a : aliases) e.aliases.push_back(std::move(a.first));
    e.count = m.count;
    e.first_ms = m.first_ms;
    e.last_ms = m.last_ms;
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const Entity& a, const Entity& b) {
    return a.count != b.count ? a.count > b.count : a.canonical < b.canonical;
  });
  return out;
}

}  // namespace aimara::nlp
