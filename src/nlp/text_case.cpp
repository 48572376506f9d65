#include "nlp/text_case.h"

namespace aimara::nlp {

namespace {

struct Decoded {
  char32_t cp;
  size_t len;
  bool valid;
};

Decoded decode(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1, true};
  size_t need = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) { need = 1; cp = b0 & 0x1F; }
  else if ((b0 & 0xF0) == 0xE0) { need = 2; cp = b0 & 0x0F; }
  else if ((b0 & 0xF8) == 0xF0) { need = 3; cp = b0 & 0x07; }
  else return {b0, 1, false};
  if (i + need >= s.size()) return {b0, 1, false};
  for (size_t k = 1; k <= need; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {b0, 1, false};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, need + 1, true};
}

void encode(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Latin Extended-A pairs upper/lower by parity, with the parity flipping in two ranges.
bool ext_a_is_upper(char32_t cp) {
  if ((cp >= 0x0139 && cp <= 0x0148) || (cp >= 0x0179 && cp <= 0x017E)) return cp % 2 == 1;
  return cp % 2 == 0;
}

char32_t lower(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp >= 0x0100 && cp <= 0x017E && cp != 0x0130 && cp != 0x0131 && cp != 0x0138 &&
      cp != 0x0149 && cp != 0x0178) {
    return ext_a_is_upper(cp) ? cp + 1 : cp;
  }
  if (cp == 0x0178) return 0xFF;
  if (cp >= 0x0391 && cp <= 0x03A9 && cp != 0x03A2) return cp + 0x20;
  if (cp >= 0x0410 && cp <= 0x042F) return cp + 0x20;
  if (cp >= 0x0400 && cp <= 0x040F) return cp + 0x50;
  return cp;
}

char32_t upper(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;
  if (cp == 0xFF) return 0x0178;
  if (cp >= 0x0100 && cp <= 0x017E && cp != 0x0130 && cp != 0x0131 && cp != 0x0138 &&
      cp != 0x0149 && cp != 0x0178) {
    return ext_a_is_upper(cp) ? cp : cp - 1;
  }
  if (cp >= 0x03B1 && cp <= 0x03C9 && cp != 0x03C2) return cp - 0x20;
  if (cp >= 0x0430 && cp <= 0x044F) return cp - 0x20;
  if (cp >= 0x0450 && cp <= 0x045F) return cp - 0x50;
  return cp;
}

template <typename Map>
std::string map_case(std::string_view s, Map map) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(map(b)));
      ++i;
      continue;
    }
    Decoded d = decode(s, i);
    if (d.valid) {
      encode(map(d.cp), out);
    } else {
      out.push_back(s[i]);
    }
    i += d.len;
  }
  return out;
}

enum class Kind { kUpper, kLower, kDigit, kOther };

Kind kind(char32_t cp) {
  if (cp >= '0' && cp <= '9') return Kind::kDigit;
  const char32_t lo = lower(cp);
  if (lo != cp) return Kind::kUpper;
  if (upper(cp) != cp) return Kind::kLower;
  if (cp >= 0x80 && cp != 0xD7 && cp != 0xF7 && !(cp >= 0x2000 && cp <= 0x206F) && cp != 0xBF &&
      cp != 0xA1 && cp != 0xAB && cp != 0xBB) {
    return Kind::kLower;  // letters without case (ß, other scripts) count as lower
  }
  return Kind::kOther;
}

}  // namespace

std::string to_lower_utf8(std::string_view s) {
  return map_case(s, [](char32_t cp) { return lower(cp); });
}

std::string to_upper_utf8(std::string_view s) {
  return map_case(s, [](char32_t cp) { return upper(cp); });
}

WordCase word_case(std::string_view w) {
  size_t uppers = 0, lowers = 0;
  bool first_upper = false, seen_letter = false, upper_after_first = false;
  size_t i = 0;
  while (i < w.size()) {
    Decoded d = decode(w, i);
    i += d.len;
    const Kind k = d.valid ? kind(d.cp) : Kind::kLower;
    if (k == Kind::kUpper) {
      ++uppers;
      if (!seen_letter) first_upper = true;
      else upper_after_first = true;
      seen_letter = true;
    } else if (k == Kind::kLower) {
      ++lowers;
      seen_letter = true;
    }
  }
  if (!seen_letter) return WordCase::kNoLetters;
  if (uppers == 0) return WordCase::kLower;
  if (lowers == 0) return uppers >= 2 ? WordCase::kAllCaps : WordCase::kInitCap;
  if (first_upper && !upper_after_first) return WordCase::kInitCap;
  return WordCase::kMixed;
}

std::string word_shape(std::string_view w) {
  std::string out;
  char last = 0;
  size_t i = 0;
  while (i < w.size()) {
    Decoded d = decode(w, i);
    char c;
    const Kind k = d.valid ? kind(d.cp) : Kind::kLower;
    switch (k) {
      case Kind::kUpper: c = 'X'; break;
      case Kind::kLower: c = 'x'; break;
      case Kind::kDigit: c = 'd'; break;
      default: c = d.len == 1 ? w[i] : '*'; break;
    }
    i += d.len;
    if (c == last && (c == 'X' || c == 'x' || c == 'd')) continue;
    out.push_back(c);
    last = c;
    if (out.size() >= 12) break;
  }
  return out;
}

}  // namespace aimara::nlp
