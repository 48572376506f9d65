#include "nlp/conll.h"

#include <fmt/format.h>

#include "core/fs.h"

namespace aimara::nlp {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Tag validity: "O", or a prefix B-/I- followed by a non-empty type.
bool valid_tag(std::string_view tag) {
  if (tag == "O") return true;
  return tag.size() > 2 && (tag[0] == 'B' || tag[0] == 'I') && tag[1] == '-';
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t need = 0;
    char32_t cp = 0;
    if (b < 0x80) { ++i; continue; }
    if ((b & 0xE0) == 0xC0) { need = 1; cp = b & 0x1F; }
    else if ((b & 0xF0) == 0xE0) { need = 2; cp = b & 0x0F; }
    else if ((b & 0xF8) == 0xF0) { need = 3; cp = b & 0x07; }
    else return false;
    if (i + need >= s.size()) return false;
    for (size_t k = 1; k <= need; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    // overlong forms, surrogates and out-of-range values are not UTF-8
    if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += need + 1;
  }
  return true;
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
  return out;
}

void to_iob2(std::vector<std::string>& tags) {
  std::string_view prev_type;  // type of the entity the previous tag is part of ("" after O)
  for (std::string& tag : tags) {
    if (tag.size() > 2 && tag[1] == '-') {
      std::string_view type = std::string_view(tag).substr(2);
      if (tag[0] == 'I' && type != prev_type) tag[0] = 'B';
      prev_type = std::string_view(tag).substr(2);
    } else {
      prev_type = {};
    }
  }
}

Result<std::vector<ConllSentence>> parse_conll(std::string_view content, std::string_view source) {
  std::vector<ConllSentence> out;
  ConllSentence current;
  size_t document = 0;
  bool document_has_tokens = false;
  auto finish_sentence = [&] {
    if (current.words.empty()) return;
    to_iob2(current.tags);
    current.document = document;
    out.push_back(std::move(current));
    current = ConllSentence{};
    document_has_tokens = true;
  };

  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= content.size()) {
    size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos) nl = content.size();
    std::string_view line = content.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // BOM

    // first and last whitespace-separated fields
    size_t b = 0;
    while (b < line.size() && is_space(line[b])) ++b;
    size_t e = line.size();
    while (e > b && is_space(line[e - 1])) --e;
    if (b == e) {
      finish_sentence();
      if (nl == content.size()) break;
      continue;
    }
    line = line.substr(b, e - b);
    size_t first_end = 0;
    while (first_end < line.size() && !is_space(line[first_end])) ++first_end;
    std::string_view word = line.substr(0, first_end);
    if (word == "-DOCSTART-") {
      finish_sentence();
      if (document_has_tokens) ++document;
      document_has_tokens = false;
      if (nl == content.size()) break;
      continue;
    }
    size_t last_begin = line.size();
    while (last_begin > 0 && !is_space(line[last_begin - 1])) --last_begin;
    if (last_begin == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}:{}: expected 'TOKEN ... TAG', got '{}'", source, line_no,
                                    line.substr(0, 80)));
    }
    std::string_view tag = line.substr(last_begin);
    if (!valid_tag(tag)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}:{}: '{}' is not an entity tag (O, B-TYPE or I-TYPE)",
                                    source, line_no, tag.substr(0, 40)));
    }
    current.words.emplace_back(word);
    current.tags.emplace_back(tag);
    if (nl == content.size()) break;
  }
  finish_sentence();
  return out;
}

Result<std::vector<ConllSentence>> read_conll(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return make_error(ErrorCode::kNotFound, fmt::format("no such file: '{}'", path.string()));
  }
  auto content = read_file(path);
  if (!content) return std::unexpected(content.error());
  if (!is_valid_utf8(*content)) *content = latin1_to_utf8(*content);
  return parse_conll(*content, path.filename().string());
}

}  // namespace aimara::nlp
