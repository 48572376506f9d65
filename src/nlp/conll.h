// Reading named-entity data in CoNLL column format (CoNLL-2002/2003, Wikigold and alike).
//
// One token per line, columns separated by spaces or tabs: the token is the FIRST column and the
// entity tag the LAST (POS and chunk columns in between are ignored). Blank lines end sentences;
// "-DOCSTART-" lines end documents and are not tokens. Tags may be IOB1 (CoNLL-2003: "I-X" starts
// an entity, "B-X" only splits two adjacent entities of one type), IOB2 ("B-X" starts every
// entity) or IO (Wikigold): all are normalised to IOB2 on read (to_iob2), which leaves IOB2 data
// unchanged. Files that are not valid UTF-8 are taken as Latin-1 and converted to UTF-8.
//
// Thread-safety: pure functions; safe from any thread. Ownership: results own their strings.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace aimara::nlp {

struct ConllSentence {
  std::vector<std::string> words;
  std::vector<std::string> tags;  // IOB2, one per word: "O", "B-PER", "I-PER", ...
  size_t document = 0;            // index of the document (split by -DOCSTART-) in the source
};

// Parses CoNLL text. `source` names it in error messages ("file.conll:12: ..."). Errors:
// kInvalidArgument for a line without a tag column or a malformed tag.
Result<std::vector<ConllSentence>> parse_conll(std::string_view content,
                                               std::string_view source = "<input>");

// Reads and parses a file (Latin-1 converted to UTF-8). Errors: kNotFound, kIo, kInvalidArgument.
Result<std::vector<ConllSentence>> read_conll(const std::filesystem::path& path);

// Rewrites IOB1/IO tags as IOB2 in place: an "I-X" that does not continue an entity of type X
// becomes "B-X". Idempotent; IOB2 input is unchanged.
void to_iob2(std::vector<std::string>& tags);

// True when `bytes` is valid UTF-8.
bool is_valid_utf8(std::string_view bytes);

// Latin-1 (ISO-8859-1) bytes to UTF-8.
std::string latin1_to_utf8(std::string_view bytes);

}  // namespace aimara::nlp
