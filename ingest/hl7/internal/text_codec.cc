#include "ingest/hl7/internal/text_codec.h"

#include <cstdint>
#include <cstring>

namespace eds::ingest::hl7::internal {
namespace {

// Length of the valid UTF-8 sequence starting at text[i] (its code point in *cp), or 0.
// Rejects overlong forms, surrogates and code points above U+10FFFF.
size_t DecodeUtf8(std::string_view text, size_t i, uint32_t* cp) {
  const auto lead = static_cast<uint8_t>(text[i]);
  size_t len = 0;
  uint32_t value = 0;
  uint32_t min = 0;
  if (lead < 0x80) {
    *cp = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    len = 2, value = lead & 0x1Fu, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3, value = lead & 0x0Fu, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4, value = lead & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (text.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3Fu);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *cp = value;
  return len;
}

bool HasHighByte(std::string_view text) {
  size_t i = 0;
  // Eight bytes at a time: almost every HL7 value is plain ASCII.
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    if (word & 0x8080808080808080ULL) return true;
  }
  for (; i < text.size(); ++i) {
    if (static_cast<uint8_t>(text[i]) >= 0x80) return true;
  }
  return false;
}

void AppendInCharset(std::string_view bytes, Charset charset, std::string& out) {
  if (charset != Charset::kLatin1 || !HasHighByte(bytes)) {
    out.append(bytes);
    return;
  }
  for (char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    if (b < 0x80) {
      out.push_back(c);
    } else {
      out.push_back(static_cast<char>(0xC0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// \Xhh...\ : bytes in the message's character set.
bool AppendHex(std::string_view hex, Charset charset, std::string& out) {
  if (hex.empty() || hex.size() % 2 != 0) return false;
  for (char c : hex) {
    if (HexDigit(c) < 0) return false;
  }
  char chunk[64];
  size_t n = 0;
  for (size_t i = 0; i < hex.size(); i += 2) {
    chunk[n++] = static_cast<char>(HexDigit(hex[i]) * 16 + HexDigit(hex[i + 1]));
    if (n == sizeof(chunk)) {
      AppendInCharset(std::string_view(chunk, n), charset, out);
      n = 0;
    }
  }
  AppendInCharset(std::string_view(chunk, n), charset, out);
  return true;
}

// Appends what one escape sequence (its body, without the escape characters) stands for;
// false when we do not know it, so the caller keeps it literally.
bool AppendEscape(std::string_view body, const Delimiters& d, Charset charset, std::string& out) {
  if (body.size() == 1) {
    char c = '\0';
    switch (body[0]) {
      case 'F':
        c = d.field;
        break;
      case 'S':
        c = d.component;
        break;
      case 'T':
        c = d.subcomponent;
        break;
      case 'R':
        c = d.repetition;
        break;
      case 'E':
        c = d.escape;
        break;
      case 'P':
        c = d.truncation;
        break;
      case 'H':  // highlighting on/off: presentation only, no text
      case 'N':
        return true;
      default:
        return false;
    }
    if (c == '\0') return false;
    out.push_back(c);
    return true;
  }
  if (body == ".br" || body == ".sp") {
    out.push_back('\n');
    return true;
  }
  if (body[0] == 'X') return AppendHex(body.substr(1), charset, out);
  return false;
}

}  // namespace

std::optional<Charset> CharsetFromName(std::string_view name) {
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  if (name.size() > 16) return std::nullopt;
  std::string upper(name);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (upper.empty() || upper == "ASCII") return Charset::kAscii;
  if (upper == "8859/1") return Charset::kLatin1;
  if (upper == "UNICODE UTF-8" || upper == "UTF-8") return Charset::kUtf8;
  return std::nullopt;
}

bool AppendDecoded(std::string_view raw, const Delimiters& d, Charset charset, std::string& out) {
  const size_t start = out.size();
  size_t esc = d.escape == '\0' ? std::string_view::npos : raw.find(d.escape);
  if (esc == std::string_view::npos) {
    AppendInCharset(raw, charset, out);
  } else {
    size_t literal_from = 0;
    while (esc != std::string_view::npos) {
      const size_t close = raw.find(d.escape, esc + 1);
      if (close == std::string_view::npos) break;  // unterminated: the rest stays literal
      AppendInCharset(raw.substr(literal_from, esc - literal_from), charset, out);
      const std::string_view body = raw.substr(esc + 1, close - esc - 1);
      if (body.empty() || !AppendEscape(body, d, charset, out)) {
        AppendInCharset(raw.substr(esc, close - esc + 1), charset, out);
      }
      literal_from = close + 1;
      esc = raw.find(d.escape, literal_from);
    }
    AppendInCharset(raw.substr(literal_from), charset, out);
  }
  if (charset == Charset::kLatin1) return true;
  const std::string_view added = std::string_view(out).substr(start);
  return !HasHighByte(added) || IsValidUtf8(added);
}

void AppendEscaped(std::string_view text, const Delimiters& d, std::string& out) {
  for (char c : text) {
    const char* seq = nullptr;
    if (c == '\r') {
      seq = "X0D";
    } else if (c == '\n') {
      seq = "X0A";  // not \.br\: '.' may be a delimiter, hex digits never are
    } else if (c == '\0') {
      out.push_back(c);
      continue;
    } else if (c == d.field) {
      seq = "F";
    } else if (c == d.component) {
      seq = "S";
    } else if (c == d.subcomponent) {
      seq = "T";
    } else if (c == d.repetition) {
      seq = "R";
    } else if (c == d.escape) {
      seq = "E";
    }
    if (seq == nullptr) {
      out.push_back(c);
    } else if (d.escape == '\0') {
      out.push_back(' ');
    } else {
      out.push_back(d.escape);
      out.append(seq);
      out.push_back(d.escape);
    }
  }
}

bool IsValidUtf8(std::string_view text) {
  uint32_t cp = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void SanitizeUtf8(std::string& text, size_t from) {
  uint32_t cp = 0;
  for (size_t i = from; i < text.size();) {
    const size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0) {
      text[i] = '?';
      ++i;
    } else {
      i += len;
    }
  }
}

std::string Utf8ToLatin1(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  uint32_t cp = 0;
  for (size_t i = 0; i < utf8.size();) {
    const size_t len = DecodeUtf8(utf8, i, &cp);
    if (len == 0) {
      out.push_back('?');
      ++i;
      continue;
    }
    out.push_back(cp <= 0xFF ? static_cast<char>(static_cast<uint8_t>(cp)) : '?');
    i += len;
  }
  return out;
}

}  // namespace eds::ingest::hl7::internal
