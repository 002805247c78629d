#define LLM_API
/* no name */
LLM_API int s_f(const char *);
