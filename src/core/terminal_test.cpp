#include "core/terminal.h"

#include <gtest/gtest.h>

namespace aimara {
namespace {

TEST(TerminalSafe, KeepsTextAndPrintableUnicode) {
  EXPECT_EQ(terminal_safe("Entrevista con José — 東京"), "Entrevista con José — 東京");
  EXPECT_EQ(terminal_safe(""), "");
}

TEST(TerminalSafe, PutsOneValueOnOneLine) { EXPECT_EQ(terminal_safe("a\nb\r\nc\td"), "a b  c d"); }

TEST(TerminalSafe, DefusesEscapeSequencesControlsAndBadUtf8) {
  // ESC ] 0 ; title BEL retitles a terminal; ESC [ 2 J clears it.
  EXPECT_EQ(terminal_safe("x\x1b]0;owned\x07y"), "x\xEF\xBF\xBD]0;owned\xEF\xBF\xBDy");
  EXPECT_EQ(terminal_safe("\x1b[2J"), "\xEF\xBF\xBD[2J");
  EXPECT_EQ(terminal_safe("del\x7f"), "del\xEF\xBF\xBD");
  EXPECT_EQ(terminal_safe("c1\xC2\x9B"
                          "31m"),
            "c1\xEF\xBF\xBD"
            "31m");  // U+009B, 8-bit CSI
  EXPECT_EQ(terminal_safe("bad\xFF\xC3"), "bad\xEF\xBF\xBD\xEF\xBF\xBD");
  // A right-to-left override would show "txt.exe" as "exe.txt".
  EXPECT_EQ(terminal_safe("a\u202Eb"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(DisplayWidth, CountsColumnsNotBytes) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("José"), 4u);
  EXPECT_EQ(display_width("Jose\u0301"), 4u);  // e + combining acute
  EXPECT_EQ(display_width("東京"), 4u);
  EXPECT_EQ(display_width("\xEF\xBF\xBD"), 1u);
}

TEST(FitColumns, PadsAndCutsToExactlyTheWidth) {
  EXPECT_EQ(fit_columns("José", 6), "José  ");
  EXPECT_EQ(fit_columns("Martínez", 5), "Mart~");
  EXPECT_EQ(display_width(fit_columns("Martínez", 5)), 5u);
  // A wide character that does not fit whole is left out, and the column still ends aligned.
  EXPECT_EQ(fit_columns("ab東京", 4), "ab~ ");
  EXPECT_EQ(fit_columns("東京都", 4), "東~ ");
  EXPECT_EQ(fit_columns("a\nb", 3), "a b");
  EXPECT_EQ(fit_columns("abc", 0), "");
}

}  // namespace
}  // namespace aimara
