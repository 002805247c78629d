/* A header in the shapes literllm.h uses (and a few it may grow), for the
 * self-test of cmake/LiterllmHeaderSymbols.cmake (tests/pkg/check_header_sample.cmake).
 * It is valid C99. */
#ifndef SAMPLE_H
#define SAMPLE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define LLM_API __declspec(dllimport)
#else
#  define LLM_API __attribute__((visibility("default")))
#endif

#define SAMPLE_LEVEL 3
#define SAMPLE_FLAGS (SAMPLE_LEVEL << 4 | 0x1u) /* 49 */
#define SAMPLE_NAME "sample"
#define SAMPLE_CALL(x) ((x) + 1)

/* ------------------------------------------------------------ section */

/* An opaque thing. */
typedef struct s_thing s_thing_t;

typedef enum s_color {
  S_RED = -1,   /* red */
  S_GREEN,      /* green, after red */
  /* blue, documented above */
  S_BLUE = 0x10,
  S_LAST = S_BLUE + SAMPLE_LEVEL, /* last */
} s_color;

/* Options, versioned. */
typedef struct s_opts {
  uint32_t version; /* SAMPLE_LEVEL */
  const char *name;
  char tag[SAMPLE_LEVEL];
  s_color color;
} s_opts;

typedef uint64_t s_id;

/* Called per item; `user_data` last. */
typedef int (*s_cb)(const char *text,
                    void *user_data);

/* Makes a colour,
 * over two lines. */
LLM_API s_color
s_make(const struct s_thing *thing,   // a thing
       s_opts *opts,
       s_cb callback, void *user_data);

// The names; a NULL-terminated array.
LLM_API const char *const *s_names(void);

/* Counts, in two flavours. */
LLM_API unsigned long long s_count(s_id id);
LLM_API int64_t s_count_signed(s_id id);

LLM_API void s_b(void);   LLM_API void s_a(void);

#ifdef __cplusplus
}
#endif

#endif /* SAMPLE_H */
