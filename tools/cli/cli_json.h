/*
 * cli_json.h: the little JSON the literllm command-line tool needs, in C99.
 *
 * A growable byte buffer, a JSON string writer (for building requests), and a
 * forgiving, non-validating JSON reader (for pulling a few values out of the
 * library's answers). The reader never recurses, never reads past `end`, and
 * answers NULL / -1 on anything it does not understand; it cannot crash on
 * odd input.
 */
#ifndef LITERLLM_CLI_JSON_H
#define LITERLLM_CLI_JSON_H

#include <stddef.h>

/* ------------------------------------------------------------------ buffer */

/* A growable byte buffer. `data` is NULL while empty and never-grown, and is
 * otherwise NUL-terminated (data[len] == '\0'). Running out of memory ends the
 * program with a message (exit status 1). */
typedef struct cli_buf {
  char *data;
  size_t len;
  size_t cap;
} cli_buf;

#define CLI_BUF_INIT {NULL, 0, 0}

void cli_buf_free(cli_buf *b);
/* Makes room for `extra` more bytes (plus the terminating NUL). */
void cli_buf_reserve(cli_buf *b, size_t extra);
void cli_buf_append(cli_buf *b, const char *s, size_t n);
void cli_buf_puts(cli_buf *b, const char *s);
void cli_buf_putc(cli_buf *b, char c);
/* Always a valid C string, "" for an empty buffer. */
const char *cli_buf_str(const cli_buf *b);

/* Ends the program: "literllm: out of memory" and exit status 1. */
void cli_out_of_memory(void);

/* ------------------------------------------------------------------ writer */

/* Appends `s[0..n)` as a quoted JSON string: quote and backslash escaped,
 * control characters as \n, \t, ... or \u00XX, valid UTF-8 copied through,
 * and each byte of an invalid UTF-8 sequence replaced by \ufffd. */
void cli_json_put_string(cli_buf *b, const char *s, size_t n);
/* The same for a NUL-terminated string. */
void cli_json_put_cstring(cli_buf *b, const char *s);

/* ------------------------------------------------------------------ reader */

/* Every reader function takes a pointer into a text and the end of that text.
 * A NULL input pointer is accepted and answers NULL (or -1), so calls chain:
 *   v = cli_json_member(cli_json_array_first(cli_json_member(doc, end, "choices"), end), end, "delta");
 */

/* Skips JSON whitespace. */
const char *cli_json_ws(const char *p, const char *end);
/* Skips one value starting at p (after whitespace); returns the position just
 * after it, or NULL when the text ends first or p is not at a value. Nested
 * objects and arrays are skipped by counting brackets, not by recursion. */
const char *cli_json_skip(const char *p, const char *end);
/* p at an object: the start of the value of its first member named `key`, or
 * NULL when p is not at an object, the member is absent, or the text is
 * malformed before it. */
const char *cli_json_member(const char *p, const char *end, const char *key);
/* p at an array: its first element, or NULL when empty / not an array. */
const char *cli_json_array_first(const char *p, const char *end);
/* elem at an array element: the next element, or NULL after the last. */
const char *cli_json_array_next(const char *elem, const char *end);
/* p at a string value: appends its decoded UTF-8 to `out` and returns 0.
 * Decodes \" \\ \/ \b \f \n \r \t and \uXXXX, surrogate pairs joined; a lone
 * surrogate becomes U+FFFD. Returns -1 (out may have grown) when p is not at
 * a string or the string is malformed. */
int cli_json_string(const char *p, const char *end, cli_buf *out);
/* 1 when p (after whitespace) is at a string value, else 0. */
int cli_json_is_string(const char *p, const char *end);

#endif /* LITERLLM_CLI_JSON_H */
