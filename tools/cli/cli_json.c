/* cli_json.c: see cli_json.h. */
#include "cli_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ buffer */

void cli_out_of_memory(void) {
  fputs("literllm: out of memory\n", stderr);
  exit(1);
}

void cli_buf_free(cli_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void cli_buf_reserve(cli_buf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (extra > SIZE_MAX - 1 - b->len) cli_out_of_memory();
  need = b->len + extra + 1;
  if (need <= b->cap) return;
  cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  p = (char *)realloc(b->data, cap);
  if (!p) cli_out_of_memory();
  b->data = p;
  b->cap = cap;
}

void cli_buf_append(cli_buf *b, const char *s, size_t n) {
  cli_buf_reserve(b, n);
  if (n) memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void cli_buf_puts(cli_buf *b, const char *s) { cli_buf_append(b, s, strlen(s)); }

void cli_buf_putc(cli_buf *b, char c) { cli_buf_append(b, &c, 1); }

const char *cli_buf_str(const cli_buf *b) { return b->data ? b->data : ""; }

/* ------------------------------------------------------------------ writer */

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1, s[0] >= 0x80), or 0
 * when it is not one (bad lead byte, truncated, overlong, surrogate, or above
 * U+10FFFF). */
static size_t utf8_sequence_length(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len, i;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  if (len == 3 && cp < 0x800u) return 0;
  if (len == 4 && (cp < 0x10000u || cp > 0x10FFFFu)) return 0;
  if (cp >= 0xD800u && cp <= 0xDFFFu) return 0;
  return len;
}

void cli_json_put_string(cli_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, run = 0;
  cli_buf_reserve(b, n + 2);
  cli_buf_putc(b, '"');
  while (i < n) {
    unsigned char c = u[i];
    const char *esc = NULL;
    char ubuf[6];
    size_t seq;
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      run++;
      i++;
      continue;
    }
    if (c >= 0x80) {
      seq = utf8_sequence_length(u + i, n - i);
      if (seq) {
        run += seq;
        i += seq;
        continue;
      }
    }
    /* Flush the run of bytes that need no escaping, then escape this one. */
    cli_buf_append(b, s + i - run, run);
    run = 0;
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      default: break;
    }
    if (esc) {
      cli_buf_puts(b, esc);
    } else if (c < 0x20) {
      ubuf[0] = '\\';
      ubuf[1] = 'u';
      ubuf[2] = '0';
      ubuf[3] = '0';
      ubuf[4] = hex[c >> 4];
      ubuf[5] = hex[c & 0xF];
      cli_buf_append(b, ubuf, 6);
    } else {
      cli_buf_puts(b, "\\ufffd"); /* a byte of invalid UTF-8 */
    }
    i++;
  }
  cli_buf_append(b, s + i - run, run);
  cli_buf_putc(b, '"');
}

void cli_json_put_cstring(cli_buf *b, const char *s) { cli_json_put_string(b, s, strlen(s)); }

/* ------------------------------------------------------------------ reader */

const char *cli_json_ws(const char *p, const char *end) {
  if (!p) return NULL;
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* p at '"': the position after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end) {
  p++;
  while (p < end) {
    if (*p == '\\') {
      if (end - p < 2) return NULL;
      p += 2;
    } else if (*p == '"') {
      return p + 1;
    } else {
      p++;
    }
  }
  return NULL;
}

static int is_scalar_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '+' || c == '.';
}

const char *cli_json_skip(const char *p, const char *end) {
  const char *start;
  size_t depth = 0;
  p = cli_json_ws(p, end);
  if (!p || p >= end) return NULL;
  if (*p == '"') return skip_string(p, end);
  if (*p == '{' || *p == '[') {
    while (p < end) {
      char c = *p;
      if (c == '"') {
        p = skip_string(p, end);
        if (!p) return NULL;
        continue;
      }
      if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        depth--;
        if (depth == 0) return p + 1;
      }
      p++;
    }
    return NULL;
  }
  start = p;
  while (p < end && is_scalar_char(*p)) p++;
  return p > start ? p : NULL;
}

int cli_json_is_string(const char *p, const char *end) {
  p = cli_json_ws(p, end);
  return p && p < end && *p == '"';
}

static int hex4(const char *p, const char *end, uint32_t *out) {
  uint32_t v = 0;
  int i;
  if (end - p < 4) return -1;
  for (i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static void put_utf8(cli_buf *out, uint32_t cp) {
  char u[4];
  if (cp < 0x80) {
    u[0] = (char)cp;
    cli_buf_append(out, u, 1);
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    cli_buf_append(out, u, 2);
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    cli_buf_append(out, u, 3);
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    cli_buf_append(out, u, 4);
  }
}

int cli_json_string(const char *p, const char *end, cli_buf *out) {
  const char *run;
  p = cli_json_ws(p, end);
  if (!p || p >= end || *p != '"') return -1;
  p++;
  run = p;
  while (p < end) {
    char c = *p;
    uint32_t cp, lo;
    if (c == '"') {
      cli_buf_append(out, run, (size_t)(p - run));
      return 0;
    }
    if (c != '\\') {
      p++;
      continue;
    }
    cli_buf_append(out, run, (size_t)(p - run));
    if (end - p < 2) return -1;
    switch (p[1]) {
      case '"': cli_buf_putc(out, '"'); break;
      case '\\': cli_buf_putc(out, '\\'); break;
      case '/': cli_buf_putc(out, '/'); break;
      case 'b': cli_buf_putc(out, '\b'); break;
      case 'f': cli_buf_putc(out, '\f'); break;
      case 'n': cli_buf_putc(out, '\n'); break;
      case 'r': cli_buf_putc(out, '\r'); break;
      case 't': cli_buf_putc(out, '\t'); break;
      case 'u':
        if (hex4(p + 2, end, &cp) != 0) return -1;
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          /* A high surrogate: joined with a following \uDC00-\uDFFF, else
           * replaced (and whatever follows is read on its own). */
          if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, end, &lo) == 0 &&
              lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        put_utf8(out, cp);
        run = p;
        continue;
      default:
        return -1;
    }
    p += 2;
    run = p;
  }
  return -1;
}

const char *cli_json_member(const char *p, const char *end, const char *key) {
  cli_buf name = CLI_BUF_INIT;
  const char *found = NULL;
  p = cli_json_ws(p, end);
  if (!p || p >= end || *p != '{') return NULL;
  p = cli_json_ws(p + 1, end);
  if (p < end && *p == '}') return NULL;
  for (;;) {
    const char *after;
    int match;
    if (p >= end || *p != '"') break;
    after = skip_string(p, end);
    if (!after) break;
    name.len = 0;
    if (cli_json_string(p, end, &name) != 0) break;
    match = name.len == strlen(key) && memcmp(cli_buf_str(&name), key, name.len) == 0;
    p = cli_json_ws(after, end);
    if (p >= end || *p != ':') break;
    p = cli_json_ws(p + 1, end);
    if (p >= end) break;
    if (match) {
      found = p;
      break;
    }
    p = cli_json_skip(p, end);
    if (!p) break;
    p = cli_json_ws(p, end);
    if (p >= end || *p != ',') break; /* '}' (absent) or malformed */
    p = cli_json_ws(p + 1, end);
  }
  cli_buf_free(&name);
  return found;
}

const char *cli_json_array_first(const char *p, const char *end) {
  p = cli_json_ws(p, end);
  if (!p || p >= end || *p != '[') return NULL;
  p = cli_json_ws(p + 1, end);
  if (p >= end || *p == ']') return NULL;
  return p;
}

const char *cli_json_array_next(const char *elem, const char *end) {
  const char *p = cli_json_skip(elem, end);
  p = cli_json_ws(p, end);
  if (!p || p >= end || *p != ',') return NULL;
  p = cli_json_ws(p + 1, end);
  return p < end ? p : NULL;
}
