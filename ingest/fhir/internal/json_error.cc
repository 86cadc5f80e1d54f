#include "ingest/fhir/internal/json_error.h"

#include "common/utf8.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

namespace eds::ingest::fhir::internal {
namespace {

constexpr size_t kNoError = static_cast<size_t>(-1);

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Scanner {
 public:
  Scanner(std::string_view s, size_t max_depth) : s_(s), max_depth_(max_depth) {}

  // Returns the offset of the first defect, or kNoError.
  size_t Run() {
    std::string stack;  // '{' or '[' per open container.
    SkipWs();
    bool want_value = true;
    while (true) {
      SkipWs();
      if (want_value) {
        if (pos_ >= s_.size()) return pos_;
        const char c = s_[pos_];
        if (c == '{' || c == '[') {
          const size_t open = pos_++;
          SkipWs();
          if (pos_ < s_.size() && s_[pos_] == (c == '{' ? '}' : ']')) {
            ++pos_;  // Empty: simdjson does not count it towards the depth.
            want_value = false;
            continue;
          }
          if (stack.size() + 1 >= max_depth_) return open;
          stack.push_back(c);
          if (c == '{' && !Key()) return error_;
          continue;
        }
        if (!Scalar()) return error_;
        want_value = false;
        continue;
      }
      if (stack.empty()) return pos_ == s_.size() ? kNoError : pos_;
      if (pos_ >= s_.size()) return pos_;
      const char c = s_[pos_];
      if (c == ',') {
        ++pos_;
        if (stack.back() == '{' && !Key()) return error_;
        want_value = true;
      } else if (c == (stack.back() == '{' ? '}' : ']')) {
        ++pos_;
        stack.pop_back();
      } else {
        return pos_;
      }
    }
  }

 private:
  void SkipWs() {
    while (pos_ < s_.size() && IsWs(s_[pos_])) ++pos_;
  }

  bool Fail(size_t at) {
    error_ = at;
    return false;
  }

  // A member name and its colon.
  bool Key() {
    SkipWs();
    if (pos_ >= s_.size() || s_[pos_] != '"') return Fail(pos_);
    if (!String()) return false;
    SkipWs();
    if (pos_ >= s_.size() || s_[pos_] != ':') return Fail(pos_);
    ++pos_;
    return true;
  }

  bool Scalar() {
    const char c = s_[pos_];
    if (c == '"') return String();
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    if (c == '-' || IsDigit(c)) return Number();
    return Fail(pos_);
  }

  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return Fail(pos_);
    pos_ += word.size();
    return true;
  }

  bool String() {
    const size_t open = pos_++;
    while (pos_ < s_.size()) {
      const auto c = static_cast<uint8_t>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail(pos_);
      if (c == '\\') {
        if (!Escape()) return false;
      } else if (c >= 0x80) {
        const size_t len = Utf8SequenceLength(s_, pos_);
        if (len == 0) return Fail(pos_);
        pos_ += len;
      } else {
        ++pos_;
      }
    }
    return Fail(open);
  }

  // Reads \uXXXX at pos_ into *unit.
  bool Unit(int* unit) {
    if (pos_ + 6 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') return false;
    int v = 0;
    for (size_t k = 2; k < 6; ++k) {
      const int h = HexValue(s_[pos_ + k]);
      if (h < 0) return false;
      v = v * 16 + h;
    }
    *unit = v;
    pos_ += 6;
    return true;
  }

  bool Escape() {
    const size_t start = pos_;
    if (pos_ + 1 >= s_.size()) return Fail(start);
    const char e = s_[pos_ + 1];
    if (e != 'u') {
      if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) return Fail(start);
      pos_ += 2;
      return true;
    }
    int unit = 0;
    if (!Unit(&unit)) return Fail(start);
    if (unit >= 0xDC00 && unit <= 0xDFFF) return Fail(start);
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      int low = 0;
      if (!Unit(&low) || low < 0xDC00 || low > 0xDFFF) return Fail(start);
    }
    return true;
  }

  bool Number() {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return Fail(start);
    const size_t int_start = pos_;
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    const size_t int_digits = pos_ - int_start;
    bool is_float = false;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      is_float = true;
      ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return Fail(start);
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      is_float = true;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return Fail(start);
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    // simdjson refuses a number glued to a letter ("1x") as a number error.
    if (pos_ < s_.size() && !IsWs(s_[pos_]) && s_[pos_] != ',' && s_[pos_] != ']' &&
        s_[pos_] != '}') {
      return Fail(start);
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (!is_float) {
      std::from_chars_result r{};
      if (s_[start] == '-') {
        int64_t v = 0;
        r = std::from_chars(first, last, v);
      } else {
        uint64_t v = 0;
        r = std::from_chars(first, last, v);
      }
      return r.ec == std::errc() ? true : Fail(start);
    }
    double v = 0;
    const auto r = std::from_chars(first, last, v);
    if (r.ec == std::errc::result_out_of_range && Magnitude(start, int_start, int_digits) > 0) {
      return Fail(start);  // Overflow to infinity; underflow to zero is accepted, as simdjson does.
    }
    return true;
  }

  // Rough decimal exponent of the number at `start`: > 0 means "large".
  long Magnitude(size_t start, size_t int_start, size_t int_digits) const {
    long exponent = 0;
    const size_t e = s_.find_first_of("eE", start);
    if (e != std::string_view::npos && e < pos_) {
      std::from_chars(s_.data() + e + 1 + (s_[e + 1] == '+' ? 1 : 0), s_.data() + pos_, exponent);
    }
    if (s_[int_start] != '0') return exponent + static_cast<long>(int_digits);
    return exponent;
  }

  std::string_view s_;
  size_t max_depth_;
  size_t pos_ = 0;
  size_t error_ = 0;
};

}  // namespace

std::optional<size_t> LocateJsonError(std::string_view json, size_t max_depth) {
  const size_t at = Scanner(json, max_depth).Run();
  if (at == kNoError) return std::nullopt;
  return at;
}

TextPosition PositionOf(std::string_view text, size_t byte_offset) {
  TextPosition p;
  if (byte_offset > text.size()) byte_offset = text.size();
  for (size_t i = 0; i < byte_offset; ++i) {
    const auto c = static_cast<uint8_t>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte: same character.
    ++p.character;
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

}  // namespace eds::ingest::fhir::internal
