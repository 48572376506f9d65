#include "nlp/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace aimara::nlp {

namespace {

enum class CharClass { kSpace, kLetter, kDigit, kApostrophe, kPunct };

struct Char {
  char32_t cp = 0;
  size_t len = 1;  // bytes
  CharClass cls = CharClass::kPunct;
};

// Decodes one UTF-8 sequence at `pos`; an invalid byte is taken as a one-byte letter so that odd
// input still yields tokens with exact offsets.
Char decode(std::string_view s, size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  Char c;
  if (b0 < 0x80) {
    c.cp = b0;
    c.len = 1;
  } else {
    size_t need = 0;
    char32_t cp = 0;
    if ((b0 & 0xE0) == 0xC0) { need = 1; cp = b0 & 0x1F; }
    else if ((b0 & 0xF0) == 0xE0) { need = 2; cp = b0 & 0x0F; }
    else if ((b0 & 0xF8) == 0xF0) { need = 3; cp = b0 & 0x07; }
    bool ok = need > 0 && pos + need < s.size();
    if (ok) {
      for (size_t k = 1; k <= need; ++k) {
        const auto b = static_cast<unsigned char>(s[pos + k]);
        if ((b & 0xC0) != 0x80) { ok = false; break; }
        cp = (cp << 6) | (b & 0x3F);
      }
    }
    if (!ok) {
      c.cp = 0xFFFD;
      c.len = 1;
      c.cls = CharClass::kLetter;
      return c;
    }
    c.cp = cp;
    c.len = need + 1;
  }
  const char32_t cp = c.cp;
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' ||
      cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x3000 ||
      cp == 0xFEFF) {
    c.cls = CharClass::kSpace;
  } else if (cp >= '0' && cp <= '9') {
    c.cls = CharClass::kDigit;
  } else if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
    c.cls = CharClass::kLetter;
  } else if (cp == '\'' || cp == 0x2019) {
    c.cls = CharClass::kApostrophe;
  } else if (cp < 0x80) {
    c.cls = CharClass::kPunct;
  } else if (cp == 0xA1 || cp == 0xAB || cp == 0xBB || cp == 0xBF || cp == 0xB7 || cp == 0xA7 ||
             cp == 0xB0 || cp == 0xAA || cp == 0xBA || (cp >= 0x2010 && cp <= 0x206F) ||
             (cp >= 0x20A0 && cp <= 0x20CF) || (cp >= 0x3000 && cp <= 0x303F) || cp == 0xA2 ||
             cp == 0xA3 || cp == 0xA5 || cp == 0xA9 || cp == 0xAE || cp == 0xD7 || cp == 0xF7) {
    c.cls = CharClass::kPunct;  // ¡ « » ¿ · § ° ª º, general punctuation, currency, ...
  } else {
    c.cls = CharClass::kLetter;  // accented and other scripts' letters
  }
  return c;
}

bool is_word_char(CharClass c) { return c == CharClass::kLetter || c == CharClass::kDigit; }

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Words that keep their trailing dot ("Sr." is one token, as in CoNLL data).
constexpr std::array<std::string_view, 36> kAbbreviations = {
    "sr",  "sra",  "srta", "dr",   "dra",  "mr",  "mrs", "ms",   "st",   "jr",   "lic",   "ing",
    "gral", "gen", "av",   "avda", "etc",  "vs",  "prof", "arq", "sto",  "sta",  "ud",    "uds",
    "inc", "corp", "ltd",  "dept", "gob",  "pág", "núm", "nº",   "aprox", "tel", "ej",   "mt"};

bool is_abbreviation(std::string_view word) {
  return std::any_of(kAbbreviations.begin(), kAbbreviations.end(),
                     [&](std::string_view a) { return ascii_iequals(a, word); });
}

bool is_single_upper_letter(std::string_view word) {
  return word.size() == 1 && word[0] >= 'A' && word[0] <= 'Z';
}

// English clitics split off the word before them, as in CoNLL-2003 ("Peter" "'s", "do" "n't").
size_t clitic_length(std::string_view word) {
  auto ends_with_ci = [&](std::string_view suf) {
    return word.size() > suf.size() &&
           ascii_iequals(word.substr(word.size() - suf.size()), suf);
  };
  static constexpr std::array<std::string_view, 13> kClitics = {
      "'s",  "'re", "'m",  "'ve", "'ll", "'d", "n't", "\xE2\x80\x99s", "\xE2\x80\x99re",
      "\xE2\x80\x99m", "\xE2\x80\x99ve", "\xE2\x80\x99ll", "n\xE2\x80\x99t"};
  for (std::string_view c : kClitics) {
    if (ends_with_ci(c)) return c.size();
  }
  return 0;
}

}  // namespace

std::vector<TextToken> tokenize(std::string_view s) {
  std::vector<TextToken> out;
  out.reserve(s.size() / 5 + 1);
  auto emit = [&](size_t b, size_t e) { out.push_back(TextToken{std::string(s.substr(b, e - b)), b, e}); };

  size_t pos = 0;
  while (pos < s.size()) {
    Char c = decode(s, pos);
    if (c.cls == CharClass::kSpace) {
      pos += c.len;
      continue;
    }
    if (is_word_char(c.cls)) {
      // A run of letters/digits with inner joiners: "Hewlett-Packard", "1.500", "20:30",
      // "EE.UU", "O'Brien", "Peter's" (clitic split below).
      const size_t begin = pos;
      size_t end = pos + c.len;
      bool inner_dot = false;
      CharClass last = c.cls;
      while (end < s.size()) {
        Char n = decode(s, end);
        if (is_word_char(n.cls)) {
          end += n.len;
          last = n.cls;
          continue;
        }
        if (end + n.len >= s.size()) break;
        Char next = decode(s, end + n.len);
        const bool joiner_digit = (n.cp == '.' || n.cp == ',' || n.cp == ':' || n.cp == '/') &&
                                  last == CharClass::kDigit && next.cls == CharClass::kDigit;
        const bool joiner_word = (n.cp == '-' || n.cp == '_' || n.cls == CharClass::kApostrophe ||
                                  n.cp == '&') &&
                                 is_word_char(next.cls);
        const bool joiner_abbrev = n.cp == '.' && last == CharClass::kLetter &&
                                   next.cls == CharClass::kLetter;
        if (joiner_digit || joiner_word || joiner_abbrev) {
          if (joiner_abbrev) inner_dot = true;
          end += n.len + next.len;
          last = next.cls;
          continue;
        }
        break;
      }
      std::string_view word = s.substr(begin, end - begin);
      // Trailing dot of an abbreviation: "U.S.", "EE.UU.", "Sr.", "J." (an initial).
      if (end < s.size() && s[end] == '.' &&
          (inner_dot || is_abbreviation(word) || is_single_upper_letter(word)) &&
          s.substr(end, 3) != "...") {
        ++end;
        word = s.substr(begin, end - begin);
      }
      size_t clitic = inner_dot ? 0 : clitic_length(word);
      if (clitic > 0 && clitic < word.size()) {
        emit(begin, end - clitic);
        emit(end - clitic, end);
      } else {
        emit(begin, end);
      }
      pos = end;
      continue;
    }
    // Punctuation: "..." and runs of the same "!"/"?" stay together; anything else is one char.
    const size_t begin = pos;
    size_t end = pos + c.len;
    if (c.cp == '.' || c.cp == '!' || c.cp == '?' || c.cp == '-') {
      while (end < s.size() && s[end] == static_cast<char>(c.cp)) ++end;
    }
    emit(begin, end);
    pos = end;
  }
  return out;
}

std::vector<std::pair<size_t, size_t>> split_sentences(const std::vector<TextToken>& tokens) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t start = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i].text;
    const bool end = t == "." || t == "!" || t == "?" || t == "..." || t == "\xE2\x80\xA6" ||
                     (t.size() > 1 && (t.find_first_not_of('!') == std::string::npos ||
                                       t.find_first_not_of('?') == std::string::npos ||
                                       t.find_first_not_of('.') == std::string::npos));
    if (!end) continue;
    // Closing quotes and brackets right after the end mark belong to the sentence.
    size_t last = i + 1;
    while (last < tokens.size() &&
           (tokens[last].text == "\"" || tokens[last].text == ")" || tokens[last].text == "'" ||
            tokens[last].text == "\xC2\xBB" || tokens[last].text == "\xE2\x80\x9D")) {
      ++last;
    }
    out.emplace_back(start, last);
    start = last;
    i = last - 1;
  }
  if (start < tokens.size()) out.emplace_back(start, tokens.size());
  return out;
}

}  // namespace aimara::nlp
