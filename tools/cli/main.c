/*
 * literllm: the command-line tool of libliterllm.
 *
 * Plain C99 + POSIX over include/literllm.h, and nothing else: it is also the
 * proof that the C API is comfortable from C. Requests are built as JSON text
 * with a small string escaper; answers are read through the response
 * accessors, and stream chunks through a small JSON reader (cli_json.c).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_json.h"
#include "literllm.h"

/* ------------------------------------------------------------- exit codes */

enum {
  EXIT_OK = 0,
  EXIT_FAILURE_IO = 1,   /* reading stdin or writing stdout failed, out of memory */
  EXIT_USAGE = 2,        /* bad command line */
  EXIT_STATUS_BASE = 10, /* + llm_status of a library failure */
  EXIT_INTERRUPTED = 130 /* Ctrl-C */
};

static int exit_for_status(llm_status st) {
  int s = (int)st;
  if (s <= 0) return EXIT_FAILURE_IO; /* cannot happen: LLM_OK is not a failure */
  if (s > 115) s = (int)LLM_ERR_INTERNAL;
  return EXIT_STATUS_BASE + s;
}

/* ------------------------------------------------------------------- help */

static const char *const EXIT_CODES_HELP =
    "Exit status:\n"
    "  0    success\n"
    "  1    I/O error (reading stdin, writing stdout) or out of memory\n"
    "  2    usage error (unknown option, missing -m, bad number, unknown provider)\n"
    "  10+S a library failure with llm_status S:\n"
    "         11 LLM_ERR_INVALID_ARGUMENT         21 LLM_ERR_STREAMING\n"
    "         12 LLM_ERR_AUTHENTICATION           22 LLM_ERR_ENDPOINT_NOT_SUPPORTED\n"
    "         13 LLM_ERR_RATE_LIMITED             23 LLM_ERR_INVALID_HEADER\n"
    "         14 LLM_ERR_BAD_REQUEST              24 LLM_ERR_SERIALIZATION\n"
    "         15 LLM_ERR_CONTEXT_WINDOW_EXCEEDED  25 LLM_ERR_BUDGET_EXCEEDED\n"
    "         16 LLM_ERR_CONTENT_POLICY           26 LLM_ERR_HOOK_REJECTED\n"
    "         17 LLM_ERR_NOT_FOUND                27 LLM_ERR_NETWORK\n"
    "         18 LLM_ERR_SERVER_ERROR             28 LLM_ERR_CANCELLED\n"
    "         19 LLM_ERR_SERVICE_UNAVAILABLE      29 LLM_ERR_INTERNAL\n"
    "         20 LLM_ERR_TIMEOUT                  30 LLM_ERR_LIMIT_EXCEEDED\n"
    "  130  interrupted (Ctrl-C)\n"
    "Errors are written to stderr as \"literllm: <status name>: <message>\".\n";

static void print_main_help(FILE *f) {
  fputs(
      "Usage: literllm <command> [options] [PROMPT...]\n"
      "\n"
      "Talk to LLM providers through libliterllm.\n"
      "\n"
      "Commands:\n"
      "  chat       send a prompt and print the reply\n"
      "  preview    print the HTTP request a chat would send, without sending it\n"
      "  providers  list the providers the library knows\n"
      "\n"
      "Options:\n"
      "  -h, --help     show this help (\"literllm <command> --help\" for a command)\n"
      "  --version      show the version\n"
      "\n"
      "Example:\n"
      "  literllm chat -m openai/gpt-4o-mini \"Say hello\"\n"
      "\n",
      f);
  fputs(EXIT_CODES_HELP, f);
}

static const char *const CHAT_OPTIONS_HELP =
    "  -m, --model PROVIDER/MODEL  the model, e.g. openai/gpt-4o-mini, groq/llama-3.1-8b-instant\n"
    "                              (required; a bare MODEL goes to the default provider)\n"
    "  --stream                    stream the reply\n"
    "  --system TEXT               a system message before the prompt\n"
    "  --temperature X             sampling temperature (a number)\n"
    "  --max-tokens N              the most tokens to generate (an integer >= 1)\n"
    "  --config FILE               client configuration file (JSON, or TOML for *.toml)\n"
    "  --base-url URL              base URL for the model's provider (not with --config);\n"
    "                              with a PROVIDER the library does not know, it is taken\n"
    "                              as an OpenAI-compatible server of that name\n"
    "  --api-key-env VAR           read the provider's API key from environment variable VAR\n"
    "                              (not with --config)\n"
    "  -H, --header 'Name: value'  an extra HTTP header for the request (repeatable)\n"
    "  -h, --help                  show this help\n";

static void print_chat_help(FILE *f) {
  fputs(
      "Usage: literllm chat -m PROVIDER/MODEL [options] [PROMPT...]\n"
      "\n"
      "Sends PROMPT (the remaining words, joined by spaces; when there are none, all\n"
      "of stdin with trailing newlines removed) and prints the reply and a newline.\n"
      "Options may come before or after the words; \"--\" ends the options.\n"
      "\n"
      "Options:\n",
      f);
  fputs(CHAT_OPTIONS_HELP, f);
  fputs(
      "  --json                      print the response JSON instead of the text;\n"
      "                              with --stream, each chunk's JSON on its own line\n"
      "  -v, --verbose               print token usage to stderr:\n"
      "                              \"tokens: prompt N, completion N, total N\"\n"
      "\n"
      "Ctrl-C cancels a streamed reply cleanly (exit status 130).\n"
      "\n",
      f);
  fputs(EXIT_CODES_HELP, f);
}

static void print_preview_help(FILE *f) {
  fputs(
      "Usage: literllm preview -m PROVIDER/MODEL [options] [PROMPT...]\n"
      "\n"
      "Prints, as JSON, the HTTP request \"literllm chat\" would send with the same\n"
      "arguments ({\"provider\", \"method\", \"url\", \"headers\", \"body\"}), without\n"
      "sending it. Credentials are shown as \"[REDACTED]\".\n"
      "\n"
      "Options:\n",
      f);
  fputs(CHAT_OPTIONS_HELP, f);
  fputs("\n", f);
  fputs(EXIT_CODES_HELP, f);
}

static void print_providers_help(FILE *f) {
  fputs(
      "Usage: literllm providers [--json]\n"
      "\n"
      "Lists the providers the library knows: name, base URL, the environment\n"
      "variable read for the API key, and aliases.\n"
      "\n"
      "Options:\n"
      "  --json      print the library's JSON array instead of a table\n"
      "  -h, --help  show this help\n"
      "\n",
      f);
  fputs(EXIT_CODES_HELP, f);
}

/* ---------------------------------------------------------- command line */

enum command { CMD_CHAT, CMD_PREVIEW, CMD_PROVIDERS };

struct options {
  enum command cmd;
  const char *model;
  const char *system;
  const char *config;
  const char *base_url;
  const char *api_key_env;
  int stream, json, verbose, help;
  int has_temperature;
  double temperature;
  int has_max_tokens;
  long long max_tokens;
  const char **headers; /* "Name: value", pointers into argv */
  size_t n_headers;
  const char **words; /* the prompt words, pointers into argv */
  size_t n_words;
};

static void usage_error_hint(enum command cmd) {
  fprintf(stderr, "Try 'literllm %s --help'.\n",
          cmd == CMD_CHAT ? "chat" : cmd == CMD_PREVIEW ? "preview" : "providers");
}

static int parse_double(const char *s, double *out) {
  char *endp = NULL;
  double v;
  if (!*s) return -1;
  errno = 0;
  v = strtod(s, &endp);
  if (errno != 0 || !endp || *endp != '\0' || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

static int parse_positive_int(const char *s, long long *out) {
  char *endp = NULL;
  long long v;
  if (!*s) return -1;
  errno = 0;
  v = strtoll(s, &endp, 10);
  if (errno != 0 || !endp || *endp != '\0' || v < 1) return -1;
  *out = v;
  return 0;
}

/* The options that take a value. */
enum opt_id {
  OPT_NONE,
  OPT_MODEL,
  OPT_SYSTEM,
  OPT_TEMPERATURE,
  OPT_MAX_TOKENS,
  OPT_CONFIG,
  OPT_BASE_URL,
  OPT_API_KEY_ENV,
  OPT_HEADER
};

/* Stores the value of a value-taking option; 0 or EXIT_USAGE. */
static int set_value_option(struct options *o, enum opt_id id, const char *shown, const char *v) {
  switch (id) {
    case OPT_MODEL: o->model = v; break;
    case OPT_SYSTEM: o->system = v; break;
    case OPT_CONFIG: o->config = v; break;
    case OPT_BASE_URL: o->base_url = v; break;
    case OPT_API_KEY_ENV: o->api_key_env = v; break;
    case OPT_HEADER: o->headers[o->n_headers++] = v; break;
    case OPT_TEMPERATURE:
      if (parse_double(v, &o->temperature) != 0) {
        fprintf(stderr, "literllm: %s: not a number: '%s'\n", shown, v);
        return EXIT_USAGE;
      }
      o->has_temperature = 1;
      break;
    case OPT_MAX_TOKENS:
      if (parse_positive_int(v, &o->max_tokens) != 0) {
        fprintf(stderr, "literllm: %s: not a whole number >= 1: '%s'\n", shown, v);
        return EXIT_USAGE;
      }
      o->has_max_tokens = 1;
      break;
    case OPT_NONE: break;
  }
  return 0;
}

/* Parses argv[2..] for a command. Returns 0, or EXIT_USAGE after a message. */
static int parse_args(int argc, char **argv, struct options *o) {
  int i, only_words = 0;
  int chat_like = o->cmd != CMD_PROVIDERS;
  for (i = 2; i < argc; i++) {
    const char *a = argv[i];
    enum opt_id id = OPT_NONE;
    int *flag = NULL;
    const char *value = NULL;
    char shown[64];

    if (only_words || a[0] != '-' || a[1] == '\0') {
      if (!chat_like) {
        fprintf(stderr, "literllm: unexpected argument '%s'\n", a);
        usage_error_hint(o->cmd);
        return EXIT_USAGE;
      }
      o->words[o->n_words++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_words = 1;
      continue;
    }
    if (a[1] == '-') {
      /* --name or --name=value */
      const char *name = a + 2;
      const char *eq = strchr(name, '=');
      size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
#define IS(lit) (nlen == sizeof(lit) - 1 && memcmp(name, lit, nlen) == 0)
      if (IS("help")) flag = &o->help;
      else if (IS("json")) flag = &o->json;
      else if (chat_like && IS("stream")) flag = &o->stream;
      else if (chat_like && IS("verbose")) flag = &o->verbose;
      else if (chat_like && IS("model")) id = OPT_MODEL;
      else if (chat_like && IS("system")) id = OPT_SYSTEM;
      else if (chat_like && IS("temperature")) id = OPT_TEMPERATURE;
      else if (chat_like && IS("max-tokens")) id = OPT_MAX_TOKENS;
      else if (chat_like && IS("config")) id = OPT_CONFIG;
      else if (chat_like && IS("base-url")) id = OPT_BASE_URL;
      else if (chat_like && IS("api-key-env")) id = OPT_API_KEY_ENV;
      else if (chat_like && IS("header")) id = OPT_HEADER;
      else {
        fprintf(stderr, "literllm: unknown option '%.*s'\n", (int)(nlen + 2), a);
        usage_error_hint(o->cmd);
        return EXIT_USAGE;
      }
#undef IS
      snprintf(shown, sizeof shown, "--%.*s", (int)(nlen < 40 ? nlen : 40), name);
      if (flag) {
        if (eq) {
          fprintf(stderr, "literllm: option '%s' takes no value\n", shown);
          usage_error_hint(o->cmd);
          return EXIT_USAGE;
        }
        *flag = 1;
        continue;
      }
      if (eq) {
        value = eq + 1;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        fprintf(stderr, "literllm: option '%s' needs a value\n", shown);
        usage_error_hint(o->cmd);
        return EXIT_USAGE;
      }
      if (set_value_option(o, id, shown, value) != 0) {
        usage_error_hint(o->cmd);
        return EXIT_USAGE;
      }
      continue;
    }
    /* Short options, which may be grouped ("-vh"); -m and -H take the rest
     * of the argument or the next one as their value. */
    {
      const char *c;
      for (c = a + 1; *c; c++) {
        if (*c == 'h') {
          o->help = 1;
        } else if (chat_like && *c == 'v') {
          o->verbose = 1;
        } else if (chat_like && (*c == 'm' || *c == 'H')) {
          id = *c == 'm' ? OPT_MODEL : OPT_HEADER;
          snprintf(shown, sizeof shown, "-%c", *c);
          if (c[1]) {
            value = c + 1;
          } else if (i + 1 < argc) {
            value = argv[++i];
          } else {
            fprintf(stderr, "literllm: option '%s' needs a value\n", shown);
            usage_error_hint(o->cmd);
            return EXIT_USAGE;
          }
          set_value_option(o, id, shown, value);
          break;
        } else {
          fprintf(stderr, "literllm: unknown option '-%c'\n", *c);
          usage_error_hint(o->cmd);
          return EXIT_USAGE;
        }
      }
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- prompt */

static int read_all(FILE *f, cli_buf *out) {
  for (;;) {
    size_t got;
    cli_buf_reserve(out, 65536);
    got = fread(out->data + out->len, 1, out->cap - out->len - 1, f);
    out->len += got;
    out->data[out->len] = '\0';
    if (got == 0) break;
  }
  return ferror(f) ? -1 : 0;
}

/* The prompt: the words joined by spaces, or stdin. 0, or an exit status. */
static int get_prompt(const struct options *o, cli_buf *prompt) {
  size_t i;
  if (o->n_words > 0) {
    for (i = 0; i < o->n_words; i++) {
      if (i) cli_buf_putc(prompt, ' ');
      cli_buf_puts(prompt, o->words[i]);
    }
    return 0;
  }
  if (isatty(STDIN_FILENO)) fputs("literllm: reading the prompt from stdin (end it with Ctrl-D)\n", stderr);
  if (read_all(stdin, prompt) != 0) {
    fprintf(stderr, "literllm: reading stdin: %s\n", strerror(errno));
    return EXIT_FAILURE_IO;
  }
  while (prompt->len > 0 && (prompt->data[prompt->len - 1] == '\n' || prompt->data[prompt->len - 1] == '\r'))
    prompt->data[--prompt->len] = '\0';
  return 0;
}

/* ------------------------------------------------------------ requests */

/* The shortest decimal text that reads back as exactly `x`. */
static void put_number(cli_buf *b, double x) {
  char tmp[64];
  int prec;
  for (prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, x);
    if (strtod(tmp, NULL) == x) break;
  }
  cli_buf_puts(b, tmp);
}

/* Splits "Name: value" into its trimmed parts. 0, or -1 when malformed. */
static int split_header(const char *h, const char **name, size_t *name_len, const char **value) {
  const char *colon = strchr(h, ':');
  const char *ne;
  if (!colon) return -1;
  ne = colon;
  while (ne > h && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
  while (h < ne && (*h == ' ' || *h == '\t')) h++;
  if (ne == h) return -1;
  *name = h;
  *name_len = (size_t)(ne - h);
  colon++;
  while (*colon == ' ' || *colon == '\t') colon++;
  *value = colon;
  return 0;
}

static int same_name(const char *a, size_t alen, const char *b, size_t blen) {
  size_t i;
  if (alen != blen) return 0;
  for (i = 0; i < alen; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y) return 0;
  }
  return 1;
}

/* Checks every --header. 0, or EXIT_USAGE after a message. */
static int check_headers(const struct options *o) {
  size_t i;
  for (i = 0; i < o->n_headers; i++) {
    const char *n, *v;
    size_t nl;
    if (split_header(o->headers[i], &n, &nl, &v) != 0) {
      /* Never echoed: a header given wrong is as likely as not a bearer key. */
      fprintf(stderr, "literllm: --header #%lu: expected 'Name: value' (the argument is not shown: it may hold a secret)\n",
              (unsigned long)(i + 1));
      usage_error_hint(o->cmd);
      return EXIT_USAGE;
    }
  }
  return 0;
}

static void build_request(const struct options *o, const cli_buf *prompt, cli_buf *req) {
  size_t i, j;
  int first = 1;
  cli_buf_puts(req, "{\"model\":");
  cli_json_put_cstring(req, o->model);
  cli_buf_puts(req, ",\"messages\":[");
  if (o->system) {
    cli_buf_puts(req, "{\"role\":\"system\",\"content\":");
    cli_json_put_cstring(req, o->system);
    cli_buf_puts(req, "},");
  }
  cli_buf_puts(req, "{\"role\":\"user\",\"content\":");
  cli_json_put_string(req, cli_buf_str(prompt), prompt->len);
  cli_buf_puts(req, "}]");
  if (o->has_temperature) {
    cli_buf_puts(req, ",\"temperature\":");
    put_number(req, o->temperature);
  }
  if (o->has_max_tokens) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", o->max_tokens);
    cli_buf_puts(req, ",\"max_tokens\":");
    cli_buf_puts(req, tmp);
  }
  if (o->n_headers > 0) {
    cli_buf_puts(req, ",\"extra_headers\":{");
    for (i = 0; i < o->n_headers; i++) {
      const char *n, *v;
      size_t nl;
      int overridden = 0;
      split_header(o->headers[i], &n, &nl, &v);
      /* A later --header of the same name wins. */
      for (j = i + 1; j < o->n_headers && !overridden; j++) {
        const char *n2, *v2;
        size_t nl2;
        split_header(o->headers[j], &n2, &nl2, &v2);
        overridden = same_name(n, nl, n2, nl2);
      }
      if (overridden) continue;
      if (!first) cli_buf_putc(req, ',');
      first = 0;
      cli_json_put_string(req, n, nl);
      cli_buf_putc(req, ':');
      cli_json_put_cstring(req, v);
    }
    cli_buf_putc(req, '}');
  }
  cli_buf_putc(req, '}');
}

/* ------------------------------------------------------------ providers */

/* Appends the decoded string value at p, or `dflt` when it is not a string. */
static void get_string(const char *p, const char *end, cli_buf *out, const char *dflt) {
  size_t before = out->len;
  if (!cli_json_is_string(p, end) || cli_json_string(p, end, out) != 0) {
    out->len = before;
    if (out->data) out->data[before] = '\0';
    cli_buf_puts(out, dflt);
  }
}

/* Appends the array of strings at p joined by ", ", or `dflt` when empty. */
static void get_string_list(const char *p, const char *end, cli_buf *out, const char *dflt) {
  const char *e;
  size_t start = out->len;
  for (e = cli_json_array_first(p, end); e; e = cli_json_array_next(e, end)) {
    if (!cli_json_is_string(e, end)) continue;
    if (out->len > start) cli_buf_puts(out, ", ");
    get_string(e, end, out, "");
  }
  if (out->len == start) cli_buf_puts(out, dflt);
}

/* 1 when `prefix` names a provider in the llm_providers_json text: its name,
 * one of its aliases, or one of its model prefixes. */
static int provider_known(const char *json, const char *prefix, size_t prefix_len) {
  const char *end = json + strlen(json);
  const char *e, *a;
  static const char *const list_fields[] = {"aliases", "prefixes"};
  cli_buf s = CLI_BUF_INIT;
  int found = 0;
  size_t f;
  for (e = cli_json_array_first(json, end); e && !found; e = cli_json_array_next(e, end)) {
    s.len = 0;
    get_string(cli_json_member(e, end, "name"), end, &s, "");
    if (s.len == prefix_len && memcmp(s.data, prefix, prefix_len) == 0) found = 1;
    for (f = 0; f < 2 && !found; f++) {
      for (a = cli_json_array_first(cli_json_member(e, end, list_fields[f]), end); a && !found;
           a = cli_json_array_next(a, end)) {
        s.len = 0;
        get_string(a, end, &s, "");
        if (s.len == prefix_len && memcmp(s.data, prefix, prefix_len) == 0) found = 1;
      }
    }
  }
  cli_buf_free(&s);
  return found;
}

/* Appends the providers' names joined by ", ". */
static void provider_names(const char *json, cli_buf *out) {
  const char *end = json + strlen(json);
  const char *e;
  size_t start = out->len;
  for (e = cli_json_array_first(json, end); e; e = cli_json_array_next(e, end)) {
    if (out->len > start) cli_buf_puts(out, ", ");
    get_string(cli_json_member(e, end, "name"), end, out, "?");
  }
}

static int report_failure(llm_status st) {
  const char *msg = llm_last_error();
  if (msg && *msg)
    fprintf(stderr, "literllm: %s: %s\n", llm_status_str(st), msg);
  else
    fprintf(stderr, "literllm: %s\n", llm_status_str(st));
  return exit_for_status(st);
}

/* Display width of UTF-8 text, counting code points (good enough here). */
static size_t text_width(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80) n++;
  return n;
}

static void print_cell(const char *s, size_t width) {
  size_t n = text_width(s);
  fputs(s, stdout);
  while (n++ < width) putchar(' ');
}

static int cmd_providers(const struct options *o) {
  char *json = NULL;
  llm_status st = llm_providers_json(NULL, &json);
  const char *end, *e;
  size_t rows = 0, r, c;
  size_t width[3] = {4, 8, 11}; /* the header widths */
  cli_buf *cells = NULL;        /* rows x 4 */
  static const char *const heads[4] = {"NAME", "BASE URL", "KEY ENV VAR", "ALIASES"};
  if (st != LLM_OK) return report_failure(st);
  if (o->json) {
    fputs(json, stdout);
    putchar('\n');
    llm_string_free(json);
    return 0;
  }
  end = json + strlen(json);
  for (e = cli_json_array_first(json, end); e; e = cli_json_array_next(e, end)) rows++;
  if (rows > 0) {
    cells = (cli_buf *)calloc(rows * 4, sizeof *cells);
    if (!cells) cli_out_of_memory();
  }
  r = 0;
  for (e = cli_json_array_first(json, end); e && r < rows; e = cli_json_array_next(e, end), r++) {
    cli_buf *row = cells + r * 4;
    get_string(cli_json_member(e, end, "name"), end, &row[0], "?");
    get_string(cli_json_member(e, end, "base_url"), end, &row[1], "-");
    get_string(cli_json_member(e, end, "api_key_env"), end, &row[2], "-");
    if (row[2].len == 0) cli_buf_puts(&row[2], "-");
    get_string_list(cli_json_member(e, end, "aliases"), end, &row[3], "-");
    for (c = 0; c < 3; c++) {
      size_t w = text_width(cli_buf_str(&row[c]));
      if (w > width[c]) width[c] = w;
    }
  }
  for (c = 0; c < 3; c++) {
    print_cell(heads[c], width[c]);
    fputs("  ", stdout);
  }
  puts(heads[3]);
  for (r = 0; r < rows; r++) {
    for (c = 0; c < 3; c++) {
      print_cell(cli_buf_str(&cells[r * 4 + c]), width[c]);
      fputs("  ", stdout);
    }
    puts(cli_buf_str(&cells[r * 4 + 3]));
  }
  for (r = 0; r < rows * 4; r++) cli_buf_free(&cells[r]);
  free(cells);
  llm_string_free(json);
  return 0;
}

/* ------------------------------------------------------ Ctrl-C watching */

/*
 * While a stream runs, SIGINT and SIGUSR1 are blocked in every thread
 * (including the library's, which inherit the mask) and a watcher thread
 * takes them with sigwait(): no code runs in a signal handler at all. The
 * first SIGINT cancels the stream (llm_stream_cancel is safe from any
 * thread); a second one ends the program at once. SIGUSR1, sent by the main
 * thread itself, tells the watcher to stop.
 */
struct watcher {
  pthread_mutex_t mu;
  llm_stream_t *stream; /* the stream to cancel, NULL while there is none */
  int interrupted;      /* SIGINTs seen */
  int done;             /* the main thread asks the watcher to stop */
  int running;
  pthread_t thread;
  sigset_t signals;
  sigset_t old_mask;
};

static void *watch_signals(void *arg) {
  struct watcher *w = (struct watcher *)arg;
  for (;;) {
    int sig = 0, stop;
    if (sigwait(&w->signals, &sig) != 0) continue;
    pthread_mutex_lock(&w->mu);
    stop = w->done;
    if (!stop && sig == SIGINT) {
      if (++w->interrupted > 1) _exit(EXIT_INTERRUPTED);
      if (w->stream) llm_stream_cancel(w->stream);
    }
    pthread_mutex_unlock(&w->mu);
    if (stop) return NULL;
  }
}

static int watcher_start(struct watcher *w) {
  struct sigaction current;
  memset(w, 0, sizeof *w);
  /* A program started with SIGINT ignored (a background job) keeps it so. */
  if (sigaction(SIGINT, NULL, &current) == 0 && current.sa_handler == SIG_IGN) return 0;
  pthread_mutex_init(&w->mu, NULL);
  sigemptyset(&w->signals);
  sigaddset(&w->signals, SIGINT);
  sigaddset(&w->signals, SIGUSR1);
  if (pthread_sigmask(SIG_BLOCK, &w->signals, &w->old_mask) != 0) return -1;
  if (pthread_create(&w->thread, NULL, watch_signals, w) != 0) {
    pthread_sigmask(SIG_SETMASK, &w->old_mask, NULL);
    return -1;
  }
  w->running = 1;
  return 0;
}

static void watcher_set_stream(struct watcher *w, llm_stream_t *s) {
  if (!w->running) return;
  pthread_mutex_lock(&w->mu);
  w->stream = s;
  if (s && w->interrupted) llm_stream_cancel(s); /* Ctrl-C came before the stream */
  pthread_mutex_unlock(&w->mu);
}

static int watcher_interrupted(struct watcher *w) {
  int n;
  if (!w->running) return 0;
  pthread_mutex_lock(&w->mu);
  n = w->interrupted;
  pthread_mutex_unlock(&w->mu);
  return n;
}

/* Stops and joins the watcher. The mask stays as it is: the program is about
 * to end, and unblocking a pending SIGINT would kill it mid-cleanup. */
static void watcher_stop(struct watcher *w) {
  if (!w->running) return;
  pthread_mutex_lock(&w->mu);
  w->done = 1;
  w->stream = NULL;
  pthread_mutex_unlock(&w->mu);
  pthread_kill(w->thread, SIGUSR1);
  pthread_join(w->thread, NULL);
  pthread_mutex_destroy(&w->mu);
  w->running = 0;
}

/* ------------------------------------------------------------------ chat */

static void print_usage_line(const llm_response_t *r) {
  long long p = (long long)llm_response_prompt_tokens(r);
  long long c = (long long)llm_response_completion_tokens(r);
  long long t = (long long)llm_response_total_tokens(r);
  if (p < 0 && c < 0 && t < 0)
    fputs("tokens: not reported\n", stderr);
  else
    fprintf(stderr, "tokens: prompt %lld, completion %lld, total %lld\n", p, c, t);
}

/* Writes a chunk's JSON as one line: raw newlines in JSON text can only be
 * whitespace between tokens, so they become spaces. */
static void print_json_line(const char *json) {
  const char *p = json;
  while (*p) {
    size_t n = strcspn(p, "\r\n");
    fwrite(p, 1, n, stdout);
    p += n;
    if (*p) {
      putchar(' ');
      p++;
    }
  }
  putchar('\n');
}

/* choices[0].delta.content of a chunk, appended to `out`; 0 when there is
 * one, -1 when there is none. */
static int chunk_content(const char *chunk, cli_buf *out) {
  const char *end = chunk + strlen(chunk);
  const char *v = cli_json_member(chunk, end, "choices");
  v = cli_json_array_first(v, end);
  v = cli_json_member(v, end, "delta");
  v = cli_json_member(v, end, "content");
  if (!cli_json_is_string(v, end)) return -1;
  return cli_json_string(v, end, out);
}

static int run_stream(llm_client_t *client, const struct options *o, const char *request,
                      struct watcher *w) {
  llm_stream_t *stream = NULL;
  llm_status st = llm_chat_stream(client, request, &stream);
  cli_buf text = CLI_BUF_INIT;
  int printed = 0, rc = 0;
  if (st != LLM_OK) {
    if (watcher_interrupted(w)) return EXIT_INTERRUPTED;
    return report_failure(st);
  }
  watcher_set_stream(w, stream);
  for (;;) {
    const char *chunk = NULL;
    st = llm_stream_next(stream, &chunk);
    if (st != LLM_OK || !chunk) break;
    if (o->json) {
      print_json_line(chunk);
    } else {
      text.len = 0;
      if (chunk_content(chunk, &text) == 0 && text.len > 0) {
        fwrite(text.data, 1, text.len, stdout);
        printed = 1;
      }
    }
    fflush(stdout);
  }
  watcher_set_stream(w, NULL);
  if (st == LLM_OK) {
    if (!o->json) putchar('\n');
    if (o->verbose) {
      llm_response_t *final = NULL;
      if (llm_stream_final_response(stream, &final) == LLM_OK) print_usage_line(final);
      llm_response_free(final);
    }
  } else {
    if (printed) putchar('\n');
    fflush(stdout);
    if (watcher_interrupted(w)) {
      fputs("literllm: interrupted\n", stderr);
      rc = EXIT_INTERRUPTED;
    } else {
      rc = report_failure(st);
    }
  }
  llm_stream_free(stream);
  cli_buf_free(&text);
  return rc;
}

static int run_chat(llm_client_t *client, const struct options *o, const char *request) {
  llm_response_t *resp = NULL;
  llm_status st = llm_chat(client, request, &resp);
  if (st != LLM_OK) return report_failure(st);
  if (o->json) {
    fputs(llm_response_json(resp), stdout);
    putchar('\n');
  } else {
    const char *text = llm_response_text(resp);
    const char *refusal = llm_response_refusal(resp);
    if (text) fputs(text, stdout);
    putchar('\n');
    if (!text && refusal) fprintf(stderr, "literllm: the model refused: %s\n", refusal);
  }
  if (o->verbose) print_usage_line(resp);
  llm_response_free(resp);
  return 0;
}

static int run_preview(llm_client_t *client, const struct options *o, const char *request) {
  char *out = NULL;
  llm_status st = llm_preview_request(client, request, o->stream, &out);
  if (st != LLM_OK) return report_failure(st);
  fputs(out, stdout);
  putchar('\n');
  llm_string_free(out);
  return 0;
}

/*
 * Creates the client the options describe: from --config, or with
 * --base-url / --api-key-env applied to the model's provider. A provider
 * prefix the library does not know is an error, unless --base-url is given:
 * then it is registered (for this client) as an OpenAI-compatible server.
 */
static int make_client(const struct options *o, llm_client_t **out) {
  const char *slash = strchr(o->model, '/');
  size_t prefix_len = slash ? (size_t)(slash - o->model) : 0;
  const char *key = NULL;
  int known = 1;
  cli_buf cfg = CLI_BUF_INIT, reg = CLI_BUF_INIT;
  llm_status st;
  int rc = 0;

  *out = NULL;
  if (o->api_key_env) {
    key = getenv(o->api_key_env);
    if (!key) {
      fprintf(stderr, "literllm: --api-key-env: environment variable '%s' is not set\n", o->api_key_env);
      return EXIT_USAGE;
    }
  }
  if (slash) {
    char *list = NULL;
    st = llm_providers_json(NULL, &list);
    if (st != LLM_OK) return report_failure(st);
    known = prefix_len > 0 && provider_known(list, o->model, prefix_len);
    if (!known && !o->base_url) {
      cli_buf names = CLI_BUF_INIT;
      provider_names(list, &names);
      fprintf(stderr,
              "literllm: unknown provider '%.*s' in model '%s' (expected PROVIDER/MODEL)\n"
              "literllm: known providers: %s\n",
              (int)prefix_len, o->model, o->model, cli_buf_str(&names));
      cli_buf_free(&names);
      llm_string_free(list);
      return EXIT_USAGE;
    }
    llm_string_free(list);
  }

  if (o->config) {
    st = llm_client_new_from_file(o->config, out);
    return st == LLM_OK ? 0 : report_failure(st);
  }

  if ((o->base_url || key) && known) {
    /* {"providers": {"<prefix>": {...}}}, or top-level for a bare model */
    cli_buf_putc(&cfg, '{');
    if (slash) {
      cli_buf_puts(&cfg, "\"providers\":{");
      cli_json_put_string(&cfg, o->model, prefix_len);
      cli_buf_puts(&cfg, ":{");
    }
    if (o->base_url) {
      cli_buf_puts(&cfg, "\"base_url\":");
      cli_json_put_cstring(&cfg, o->base_url);
    }
    if (key) {
      if (o->base_url) cli_buf_putc(&cfg, ',');
      cli_buf_puts(&cfg, "\"api_key\":");
      cli_json_put_cstring(&cfg, key);
    }
    if (slash) cli_buf_puts(&cfg, "}}");
    cli_buf_putc(&cfg, '}');
  }
  st = llm_client_new(cfg.len ? cfg.data : NULL, out);
  if (st != LLM_OK) {
    rc = report_failure(st);
  } else if (!known) {
    cli_buf_puts(&reg, "{\"name\":");
    cli_json_put_string(&reg, o->model, prefix_len);
    cli_buf_puts(&reg, ",\"prefixes\":[");
    cli_json_put_string(&reg, o->model, prefix_len);
    cli_buf_puts(&reg, "],\"base_url\":");
    cli_json_put_cstring(&reg, o->base_url);
    if (key) {
      cli_buf_puts(&reg, ",\"auth\":\"bearer\",\"api_key\":");
      cli_json_put_cstring(&reg, key);
    } else {
      cli_buf_puts(&reg, ",\"auth\":\"none\"");
    }
    cli_buf_putc(&reg, '}');
    st = llm_register_provider(*out, reg.data);
    if (st != LLM_OK) {
      rc = report_failure(st);
      llm_client_free(*out);
      *out = NULL;
    }
  }
  /* The buffers held the key: wipe them before freeing. */
  if (cfg.data) memset(cfg.data, 0, cfg.cap);
  if (reg.data) memset(reg.data, 0, reg.cap);
  cli_buf_free(&cfg);
  cli_buf_free(&reg);
  return rc;
}

static int cmd_chat_or_preview(const struct options *o) {
  cli_buf prompt = CLI_BUF_INIT, req = CLI_BUF_INIT;
  llm_client_t *client = NULL;
  struct watcher w;
  int rc;

  memset(&w, 0, sizeof w);
  if (!o->model) {
    fprintf(stderr, "literllm: missing -m PROVIDER/MODEL\n");
    usage_error_hint(o->cmd);
    return EXIT_USAGE;
  }
  if (o->config && (o->base_url || o->api_key_env)) {
    fprintf(stderr, "literllm: --config cannot be combined with %s\n",
            o->base_url ? "--base-url" : "--api-key-env");
    usage_error_hint(o->cmd);
    return EXIT_USAGE;
  }
  if ((rc = check_headers(o)) != 0) return rc;
  if ((rc = get_prompt(o, &prompt)) != 0) goto done;
  build_request(o, &prompt, &req);

  /* Before the client exists, so that its threads inherit the signal mask. */
  if (o->cmd == CMD_CHAT && o->stream && watcher_start(&w) != 0)
    fputs("literllm: warning: cannot watch for Ctrl-C\n", stderr);

  if ((rc = make_client(o, &client)) != 0) goto done;
  if (o->cmd == CMD_PREVIEW)
    rc = run_preview(client, o, req.data);
  else if (o->stream)
    rc = run_stream(client, o, req.data, &w);
  else
    rc = run_chat(client, o, req.data);

done:
  llm_client_free(client);
  watcher_stop(&w);
  cli_buf_free(&prompt);
  cli_buf_free(&req);
  return rc;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
  struct options o;
  const char *cmd;
  int rc;

  if (argc < 2) {
    print_main_help(stderr);
    return EXIT_USAGE;
  }
  cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    if (argc > 2 && strcmp(cmd, "help") == 0) {
      if (strcmp(argv[2], "chat") == 0) print_chat_help(stdout);
      else if (strcmp(argv[2], "preview") == 0) print_preview_help(stdout);
      else if (strcmp(argv[2], "providers") == 0) print_providers_help(stdout);
      else {
        fprintf(stderr, "literllm: unknown command '%s'\n", argv[2]);
        return EXIT_USAGE;
      }
      return EXIT_OK;
    }
    print_main_help(stdout);
    return EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    printf("literllm %s\n", llm_version());
    if (llm_version_number() != LLM_VERSION_NUMBER)
      printf("(built against literllm.h %d.%d.%d)\n", LLM_VERSION_MAJOR, LLM_VERSION_MINOR,
             LLM_VERSION_PATCH);
    return EXIT_OK;
  }

  memset(&o, 0, sizeof o);
  if (strcmp(cmd, "chat") == 0) {
    o.cmd = CMD_CHAT;
  } else if (strcmp(cmd, "preview") == 0) {
    o.cmd = CMD_PREVIEW;
  } else if (strcmp(cmd, "providers") == 0) {
    o.cmd = CMD_PROVIDERS;
  } else {
    fprintf(stderr, "literllm: unknown command '%s'\nTry 'literllm --help'.\n", cmd);
    return EXIT_USAGE;
  }
  /* argv bounds both lists: no more headers or words than arguments. */
  o.headers = (const char **)calloc((size_t)argc, sizeof *o.headers);
  o.words = (const char **)calloc((size_t)argc, sizeof *o.words);
  if (!o.headers || !o.words) cli_out_of_memory();

  rc = parse_args(argc, argv, &o);
  if (rc == 0 && o.help) {
    if (o.cmd == CMD_CHAT) print_chat_help(stdout);
    else if (o.cmd == CMD_PREVIEW) print_preview_help(stdout);
    else print_providers_help(stdout);
  } else if (rc == 0) {
    rc = o.cmd == CMD_PROVIDERS ? cmd_providers(&o) : cmd_chat_or_preview(&o);
  }
  free(o.headers);
  free(o.words);

  if (fflush(stdout) != 0 || ferror(stdout)) {
    if (rc == 0) {
      fprintf(stderr, "literllm: writing stdout: %s\n", strerror(errno));
      rc = EXIT_FAILURE_IO;
    }
  }
  return rc;
}
