#include "nlp/patterns.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/utf8.h>

#include <fmt/format.h>

#include <algorithm>

namespace aimara::nlp {

namespace {

struct CodeFree {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct MatchContextFree {
  void operator()(pcre2_match_context* c) const { pcre2_match_context_free(c); }
};
struct MatchDataFree {
  void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
};

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  int n = pcre2_get_error_message(code, buf, sizeof(buf));
  if (n < 0) return fmt::format("PCRE2 error {}", code);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

std::string describe(const PatternSpec& s) { return fmt::format("'{}' /{}/", s.label, s.regex); }

// The code point that starts at `pos` / ends at `pos`; -1 at the edges or on a broken sequence.
int32_t code_point_at(std::string_view s, size_t pos) {
  if (pos >= s.size()) return -1;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  auto i = static_cast<int32_t>(pos);
  UChar32 c = 0;
  U8_NEXT(p, i, static_cast<int32_t>(s.size()), c);
  return c;
}

int32_t code_point_before(std::string_view s, size_t pos) {
  if (pos == 0 || pos > s.size()) return -1;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  auto i = static_cast<int32_t>(pos);
  UChar32 c = 0;
  U8_PREV(p, 0, i, c);
  return c;
}

size_t next_code_point(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  auto i = static_cast<int32_t>(pos);
  UChar32 c = 0;
  U8_NEXT(p, i, static_cast<int32_t>(s.size()), c);
  return std::max(static_cast<size_t>(i), pos + 1);
}

bool on_word_boundaries(std::string_view s, size_t begin, size_t end) {
  if (is_word_code_point(code_point_before(s, begin)) &&
      is_word_code_point(code_point_at(s, begin))) {
    return false;
  }
  return !(is_word_code_point(code_point_before(s, end)) &&
           is_word_code_point(code_point_at(s, end)));
}

}  // namespace

struct PatternSet::Compiled {
  std::unique_ptr<pcre2_code, CodeFree> code;
  std::unique_ptr<pcre2_match_context, MatchContextFree> context;
  bool jit = false;
  struct Piece {
    std::string literal;
    int group = -1;  // >= 0: a capture group's text
  };
  std::vector<Piece> canonical;  // empty: the whole match
};

PatternSet::PatternSet() = default;
PatternSet::~PatternSet() = default;
PatternSet::PatternSet(PatternSet&&) noexcept = default;
PatternSet& PatternSet::operator=(PatternSet&&) noexcept = default;

bool PatternSet::jit(size_t i) const { return compiled_.at(i)->jit; }

Result<PatternSet> PatternSet::compile(std::vector<PatternSpec> specs, PatternLimits limits) {
  PatternSet set;
  set.limits_ = limits;
  for (const PatternSpec& spec : specs) {
    auto c = std::make_unique<Compiled>();
    uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
    if (spec.caseless) options |= PCRE2_CASELESS;
    int code = 0;
    PCRE2_SIZE offset = 0;
    c->code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(spec.regex.data()), spec.regex.size(),
                                options, &code, &offset, nullptr));
    if (!c->code) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("bad regular expression in pattern {}: at offset {}: {}",
                                    describe(spec), offset, pcre2_message(code)));
    }
    c->jit = pcre2_jit_compile(c->code.get(), PCRE2_JIT_COMPLETE) == 0;
    c->context.reset(pcre2_match_context_create(nullptr));
    if (!c->context) return make_error(ErrorCode::kInternal, "out of memory compiling patterns");
    pcre2_set_match_limit(c->context.get(), limits.match_limit);
    pcre2_set_depth_limit(c->context.get(), limits.depth_limit);
    pcre2_set_heap_limit(c->context.get(), limits.heap_limit_kib);

    uint32_t groups = 0;
    pcre2_pattern_info(c->code.get(), PCRE2_INFO_CAPTURECOUNT, &groups);
    const std::string& t = spec.canonical;
    for (size_t i = 0; i < t.size();) {
      if (t[i] != '$' || i + 1 >= t.size()) {
        if (c->canonical.empty() || c->canonical.back().group >= 0) c->canonical.push_back({});
        c->canonical.back().literal.push_back(t[i++]);
        continue;
      }
      if (t[i + 1] == '$') {
        if (c->canonical.empty() || c->canonical.back().group >= 0) c->canonical.push_back({});
        c->canonical.back().literal.push_back('$');
        i += 2;
        continue;
      }
      size_t j = i + 1;
      std::string name;
      if (t[j] == '{') {
        size_t close = t.find('}', j);
        if (close == std::string::npos) {
          return make_error(ErrorCode::kInvalidArgument,
                            fmt::format("pattern {}: canonical template '{}' has an unclosed '${{'",
                                        describe(spec), t));
        }
        name = t.substr(j + 1, close - j - 1);
        j = close + 1;
      } else {
        while (j < t.size() && (std::isalnum(static_cast<unsigned char>(t[j])) || t[j] == '_')) {
          name.push_back(t[j++]);
        }
      }
      int group = -1;
      if (!name.empty() &&
          std::all_of(name.begin(), name.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        group = name.size() < 6 ? std::stoi(name) : -1;
        if (group > static_cast<int>(groups)) group = -1;
      } else if (!name.empty()) {
        group = pcre2_substring_number_from_name(c->code.get(),
                                                 reinterpret_cast<PCRE2_SPTR>(name.c_str()));
      }
      if (group < 0) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("pattern {}: canonical template '{}' names group '{}', "
                                      "which the regex does not define",
                                      describe(spec), t, name));
      }
      c->canonical.push_back({{}, group});
      i = j;
    }
    set.compiled_.push_back(std::move(c));
  }
  set.specs_ = std::move(specs);
  return set;
}

PatternScan PatternSet::find(std::string_view text, const FoldedText& folded) const {
  PatternScan scan;
  for (size_t p = 0; p < compiled_.size(); ++p) {
    const PatternSpec& spec = specs_[p];
    const Compiled& c = *compiled_[p];
    const std::string_view subject = spec.fold ? std::string_view(folded.text) : text;
    std::unique_ptr<pcre2_match_data, MatchDataFree> data(
        pcre2_match_data_create_from_pattern(c.code.get(), nullptr));
    if (!data) {
      scan.failures.push_back({static_cast<uint32_t>(p),
                               Error{ErrorCode::kInternal, "out of memory matching patterns"}});
      continue;
    }
    auto to_original = [&](size_t b, size_t e) -> std::pair<size_t, size_t> {
      if (!spec.fold || b == e) return {b, e};
      return folded.to_original(b, e);
    };
    std::vector<PatternMatch> found;
    size_t offset = 0;
    bool failed = false;
    while (offset <= subject.size()) {
      int rc = pcre2_match(c.code.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                           subject.size(), offset, 0, data.get(), c.context.get());
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) {
        std::string why = pcre2_message(rc);
        if (rc == PCRE2_ERROR_MATCHLIMIT) {
          why = fmt::format("it hit the match limit ({} steps): the regex backtracks too much",
                            limits_.match_limit);
        }
        scan.failures.push_back({static_cast<uint32_t>(p),
                                 Error{ErrorCode::kInvalidArgument,
                                       fmt::format("pattern {} gave up on a text of {} bytes: {}",
                                                   describe(spec), subject.size(), why)}});
        failed = true;
        break;
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.get());
      const size_t b = ov[0];
      const size_t e = ov[1];
      if (e <= b || !on_word_boundaries(subject, b, e)) {
        if (b >= subject.size()) break;
        offset = next_code_point(subject, std::min(b, e));
        continue;
      }
      PatternMatch m;
      std::tie(m.begin, m.end) = to_original(b, e);
      m.pattern = static_cast<uint32_t>(p);
      if (c.canonical.empty()) {
        m.canonical = std::string(text.substr(m.begin, m.end - m.begin));
      } else {
        const auto count = static_cast<int>(pcre2_get_ovector_count(data.get()));
        for (const auto& piece : c.canonical) {
          if (piece.group < 0) {
            m.canonical += piece.literal;
          } else if (piece.group < count && ov[2 * piece.group] != PCRE2_UNSET) {
            auto [gb, ge] = to_original(ov[2 * piece.group], ov[2 * piece.group + 1]);
            if (ge > gb) m.canonical.append(text.substr(gb, ge - gb));
          }
        }
      }
      found.push_back(std::move(m));
      offset = e;
    }
    if (!failed) scan.matches.insert(scan.matches.end(), found.begin(), found.end());
  }
  std::stable_sort(scan.matches.begin(), scan.matches.end(),
                   [](const PatternMatch& a, const PatternMatch& b) {
                     return a.begin != b.begin ? a.begin < b.begin : a.pattern < b.pattern;
                   });
  return scan;
}

}  // namespace aimara::nlp
